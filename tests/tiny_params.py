"""Tiny settings for tests/dvc_project.py projects: every stage runs in seconds on 200 + 50 images."""


def tiny_features(params: dict) -> None:
    """ResNet-18 at 32 px with explicit random weights (as `make repro` sets them where ImageNet's are missing).

    The scattering sets keep their real configurations (176 and 3969 features): they take well under a
    second on 250 images.
    """
    params["features"]["resnet18"].update(weights="random", input_size=32, batch_size=64, device="cpu")
    for name in ("scatnet", "scatnet_rich"):
        params["features"][name]["device"] = "cpu"
