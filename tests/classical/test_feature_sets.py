"""A classify stage's inputs: the train and test arrays of one feature set, as its feature stage wrote them."""

import numpy as np

from fmnist.classical.classify import load_feature_set
from fmnist.layout import Layout


def test_the_train_and_test_arrays_come_back_as_written_each_in_its_place(tmp_path):
    layout = Layout(tmp_path)
    layout.features("raw").mkdir(parents=True)
    train = np.arange(12, dtype=np.float32).reshape(4, 3)
    test = -np.arange(6, dtype=np.float32).reshape(2, 3)
    np.save(layout.feature_array("raw", "train"), train)
    np.save(layout.feature_array("raw", "test"), test)
    loaded_train, loaded_test = load_feature_set(layout, "raw", 4, 2)
    assert np.array_equal(loaded_train, train) and loaded_train.dtype == np.float32
    assert np.array_equal(loaded_test, test) and loaded_test.dtype == np.float32
