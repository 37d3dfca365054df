import dataclasses

import numpy as np
import pytest

from fmnist.data.dataset import ARRAY_NAMES, Dataset, load_dataset, prepare_dataset, stratified_val_indices
from fmnist.errors import PipelineError


def test_prepare_writes_validated_arrays(tmp_path, raw_dir):
    out = tmp_path / "prepared"
    prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    data = load_dataset(out)
    assert data.train_images.shape == (200, 28, 28) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (50, 28, 28)
    assert len(data.val_indices) == 20
    assert len(np.intersect1d(data.fit_indices(), data.val_indices)) == 0
    assert len(data.fit_indices()) + len(data.val_indices) == 200


def test_validation_split_is_stratified_and_seeded():
    labels = np.repeat(np.arange(10), 100)
    a = stratified_val_indices(labels, 0.1, seed=7)
    assert np.array_equal(a, stratified_val_indices(labels, 0.1, seed=7))
    assert not np.array_equal(a, stratified_val_indices(labels, 0.1, seed=8))
    assert np.bincount(labels[a], minlength=10).tolist() == [10] * 10
    assert np.all(np.diff(a) > 0)


def test_prepare_draws_the_seeded_validation_split(tmp_path, raw_dir):
    first = prepare_dataset(raw_dir, tmp_path / "a", val_fraction=0.1, seed=3)
    again = prepare_dataset(raw_dir, tmp_path / "b", val_fraction=0.1, seed=3)
    assert np.array_equal(first.val_indices, again.val_indices)
    assert np.array_equal(first.val_indices, stratified_val_indices(first.train_labels, 0.1, seed=3))


def test_prepare_on_bad_input_leaves_nothing(tmp_path, raw_dir):
    (raw_dir / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    out = tmp_path / "prepared"
    with pytest.raises(PipelineError, match="t10k-labels-idx1-ubyte.gz: not a gzip file"):
        prepare_dataset(raw_dir, out, 0.1, 0)
    assert not out.exists() or not any(out.iterdir())


def test_missing_prepared_arrays_say_which_stage_to_run(tmp_path):
    with pytest.raises(PipelineError, match=r"train_images\.npy: not found; run the prepare stage"):
        load_dataset(tmp_path)


def test_prepare_writes_one_file_per_dataset_field_and_loads_them_back_by_name(tmp_path, raw_dir):
    out = tmp_path / "prepared"
    written = prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    assert tuple(field.name for field in dataclasses.fields(Dataset)) == ARRAY_NAMES
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{name}.npy" for name in ARRAY_NAMES)
    loaded = load_dataset(out)
    for name in ARRAY_NAMES:  # each array under its own name: no two swapped
        assert np.array_equal(getattr(loaded, name), getattr(written, name)), name
        assert np.array_equal(np.load(out / f"{name}.npy"), getattr(written, name)), name


DAMAGE = {
    "garbage": lambda data: b"not an array at all",
    "truncated": lambda data: data[: len(data) // 2],
    "header-only": lambda data: data[:60],
    "empty": lambda data: b"",
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_corrupt_prepared_array_names_the_file_and_the_fix(tmp_path, raw_dir, damage):
    out = tmp_path / "prepared"
    prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    target = out / "test_images.npy"
    target.write_bytes(damage(target.read_bytes()))
    with pytest.raises(PipelineError) as caught:
        load_dataset(out)
    message = str(caught.value)
    assert message.startswith(f"{target}: ")
    assert f"`dvc checkout {out}`" in message and "`dvc repro prepare`" in message
    assert "allow_pickle" not in message and "pickle" not in message


@pytest.mark.parametrize("labels", ["test_labels", "train_labels"])
def test_labels_of_another_split_name_both_prepared_files(tmp_path, raw_dir, labels):
    out = tmp_path / "prepared"
    prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    other = "train_labels" if labels == "test_labels" else "test_labels"
    (out / f"{labels}.npy").write_bytes((out / f"{other}.npy").read_bytes())
    images = labels.replace("labels", "images")
    with pytest.raises(PipelineError) as caught:
        load_dataset(out)
    message = str(caught.value)
    assert f"{out / labels}.npy" in message and f"{out / images}.npy" in message
    assert "`dvc repro prepare`" in message


def test_images_that_are_not_a_stack_of_pictures_are_refused(tmp_path, raw_dir):
    out = tmp_path / "prepared"
    prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    np.save(out / "train_images.npy", np.load(out / "train_images.npy").reshape(200, 28 * 28))  # one label each still
    with pytest.raises(PipelineError, match=r"train_images\.npy \(shape \(200, 784\)\) and .*train_labels\.npy"):
        load_dataset(out)


@pytest.mark.parametrize(
    "indices", [[0, 5000], [200], [-1, 3], [0.0, 5.0], [[0, 5]]], ids=["far", "one-past", "negative", "float", "2-d"]
)
def test_validation_indices_outside_the_training_set_are_refused(tmp_path, raw_dir, indices):
    out = tmp_path / "prepared"
    prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    np.save(out / "val_indices.npy", np.array(indices))
    with pytest.raises(PipelineError, match=r"val_indices\.npy: expected indices into the 200 training images, .*"):
        load_dataset(out)


def test_validation_indices_may_be_the_first_and_last_training_rows(tmp_path, raw_dir):
    out = tmp_path / "prepared"
    prepare_dataset(raw_dir, out, val_fraction=0.1, seed=0)
    np.save(out / "val_indices.npy", np.array([0, 199]))
    assert load_dataset(out).fit_indices().tolist() == list(range(1, 199))
