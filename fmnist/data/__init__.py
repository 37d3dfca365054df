"""The data family: download the verified IDX files, parse them, and the prepared dataset with its split.

Other families use the prepared dataset through this package's API only.
"""

from fmnist.data.dataset import Dataset, load_dataset, stratified_val_indices

__all__ = ["Dataset", "load_dataset", "stratified_val_indices"]
