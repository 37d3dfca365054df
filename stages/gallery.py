"""DVC stage: misclassified test images of the best classifier and the best CNN, with true and predicted labels."""

import logging
from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.dataset import load_dataset
from fmnist.gallery import write_galleries

PARAMS_READ = ("pictures.seed", "pictures.gallery_images", "pictures.gallery_columns")
OUT_DIR = Path("figures/gallery")


def main() -> None:
    params = stage_params(PARAMS_READ)["pictures"]
    dataset = load_dataset(Path("data/prepared"))
    manifest = write_galleries(Path("."), dataset.test_images, params["gallery_images"], params["gallery_columns"],
                               params["seed"], OUT_DIR)
    logging.getLogger("gallery").info("galleries: %s", ", ".join(g["png"] for g in manifest["galleries"]) or "none")


if __name__ == "__main__":
    run_stage(main)
