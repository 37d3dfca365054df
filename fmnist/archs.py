"""The names of the train_cnn architectures (kept free of torch so params validation stays light)."""

SMALL_ARCHS = ("mlp", "dense2", "cnn1", "lenet5", "lenet5_bn", "lenet5_boosted", "convnet_bn")
IMAGENET_ARCHS = ("resnet18", "vgg16_bn")
ARCHS = SMALL_ARCHS + IMAGENET_ARCHS
