"""DVC stage download: the four verified Fashion-MNIST .gz files into data/raw/."""

from fmnist.cli import run_stage
from fmnist.data.download import download_dataset
from fmnist.layout import Layout
from fmnist.params_read import stage_params

PARAMS_READ = ("download",)


def main() -> None:
    params = stage_params(PARAMS_READ)["download"]
    download_dataset(Layout().raw_data, params["mirrors"], params["urls"], params["retries"], params["timeout_s"])


if __name__ == "__main__":
    run_stage(main)
