"""A tiny CNN configuration (small nets, 2 epochs) that trains every default arch in seconds on tiny data."""


def tiny_cnn_params(params: dict) -> None:
    params["model"].update(epochs=2, batch_size=32, patience=1, channels_last=False)
    cnn = params["cnn"]
    for settings in cnn.values():
        settings["epochs"] = None
    cnn["mlp"].update(hidden=[32, 32])
    cnn["cnn1"].update(filters=4)
    cnn["convnet_bn"].update(channels=[8, 16], fc=[16, 16])
    for arch in ("resnet18", "vgg16_bn"):
        cnn[arch].update(weights="random", input_size=32, epochs=1)
