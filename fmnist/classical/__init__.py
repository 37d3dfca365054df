"""The classical family: scikit-learn models tuned by grid search on one feature set, and their summary table."""
