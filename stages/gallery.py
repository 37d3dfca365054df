"""DVC stage gallery: misclassified test images of the best classifier and the best CNN, with true and predicted
labels."""

import logging

from fmnist.cli import run_stage
from fmnist.data import load_dataset
from fmnist.layout import Layout
from fmnist.params_read import stage_params
from fmnist.pictures.gallery import write_galleries

PARAMS_READ = ("pictures.seed", "pictures.gallery_images", "pictures.gallery_columns")


def main() -> None:
    params = stage_params(PARAMS_READ)["pictures"]
    layout = Layout()
    test_images = load_dataset(layout.prepared).test_images
    manifest = write_galleries(layout, test_images, params["gallery_images"], params["gallery_columns"], params["seed"])
    logging.getLogger("gallery").info("galleries: %s", ", ".join(g["png"] for g in manifest["galleries"]) or "none")


if __name__ == "__main__":
    run_stage(main)
