"""DVC stage entry points: `python -m stages.<name>`; each reads only the params dvc.yaml declares for it."""
