"""The pictures a stage's JSON output names (details/visualize/*.json, figures/gallery/gallery.json), checked before
the report embeds them.

Those JSON files are cached outputs that teammates pull from the shared remote, and report.html, which embeds every
picture it links, is pushed back: a path in them is untrusted. One is taken only when it names a file inside the
folder its stage draws pictures to (`..` followed), and a symlink there only when it leads into that folder or into
DVC's cache (`cache.type: symlink`, as a shared cache is set up); only a PNG is embedded. So no other file of the
machine (an SSH key, .dvc/config.local) can end up base64-encoded in the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fmnist.errors import PipelineError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def dvc_cache(root: Path) -> Path | None:
    """The DVC cache folder of the repository at `root`, as DVC's configuration sets it (`dvc cache dir`); None
    outside a DVC repository."""
    from dvc.exceptions import NotDvcRepoError  # only for a symlinked picture: DVC takes a second to import
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            return Path(repo.cache.local.path).resolve()
    except NotDvcRepoError:
        return None


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


@dataclass(frozen=True)
class PictureIndex:
    """A JSON output naming pictures, the folder its stage draws them to, and that stage (for the fix)."""

    json: Path
    folder: Path
    stage: str  # as `dvc repro` takes it: "gallery", "visualize@raw-pca"

    def refuse(self, problem: str) -> PipelineError:
        return PipelineError(
            f"{self.json}: {problem}; restore the stage's cached outputs with `dvc checkout {self.stage}`, "
            f"or draw them again with `dvc repro --force {self.stage}`"
        )

    def locate(self, root: Path, value: object) -> Path:
        """The picture `value` names (relative to the repository `root`), as a path under `folder` free of `..`;
        refused when it leads anywhere else. It may not exist (details pulled without pictures)."""
        if not isinstance(value, str) or not value:
            raise self.refuse(f"picture path {value!r} is not a path")
        named = Path(os.path.normpath(root / value))
        folder = Path(os.path.normpath(root / self.folder))
        if not named.is_relative_to(folder):
            raise self.refuse(
                f"picture path {value!r} leads to {named}, outside {self.folder}, where `{self.stage}` draws its "
                "pictures; the report embeds no other file"
            )
        picture = self.folder / named.relative_to(folder)
        if (root / picture).is_symlink():
            self._check_link(root, picture)
        return picture

    def _check_link(self, root: Path, picture: Path) -> None:
        try:
            target = (root / picture).resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # a dangling link, a loop
            raise self.refuse(f"picture {picture} is a link that does not resolve ({exc})") from None
        allowed = [(root / self.folder).resolve(), dvc_cache(root)]
        if not any(place is not None and target.is_relative_to(place) for place in allowed):
            raise self.refuse(
                f"picture {picture} is a link to {target}, outside {self.folder} and DVC's cache; "
                "the report embeds no other file"
            )

    def png(self, path: Path) -> Path:
        """`path` (from `locate`), refused unless it is a PNG file."""
        if not path.is_file():
            raise self.refuse(f"picture {path} does not exist")
        with path.open("rb") as picture:
            if not is_png(picture.read(len(PNG_SIGNATURE))):
                raise self.refuse(f"picture {path} is not a PNG (it lacks the PNG signature)")
        return path
