"""Library behind the Fashion-MNIST DVC pipeline: thin stage scripts in stages/ call these functions."""
