"""The CNN family: the report networks, their training loop, augmentation, boosting and learning curves."""
