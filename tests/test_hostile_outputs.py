"""Hostile names and paths on the commands that write files (`run`, `render`): nothing is written
outside where the user asked, only regular files are replaced, and no output is lost."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from convlint.cli.main import main

SPEC = """\
inputs: {x: [1, 3, 8, 8]}
layers:
  - {name: ../victim/notes, type: Conv2d, out_channels: 4, kernel_size: 3}
  - {name: /tmp/absolute, type: ReLU}
  - {name: allow_pickle, type: ReLU}
  - {name: file, type: ReLU}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def test_images_stay_inside_the_chosen_folder(tmp_path, spec, capsys):
    victim = tmp_path / "victim" / "notes.png"
    victim.parent.mkdir()
    victim.write_text("keep")
    images = tmp_path / "imgs"
    assert main(["run", str(spec), "-o", str(tmp_path / "out.npz"), "--all", "--save-images", str(images)]) == 0
    assert victim.read_text() == "keep"
    written = sorted(path.name for path in images.iterdir())
    assert written == ["%2E.%2Fvictim%2Fnotes.png", "%2Ftmp%2Fabsolute.png", "allow_pickle.png", "file.png"]
    assert "wrote 4 image(s)" in capsys.readouterr().out
    assert not Path("/tmp/absolute.png").exists() or Path("/tmp/absolute.png").stat().st_mtime < spec.stat().st_mtime


def test_every_output_name_is_kept_in_the_npz(tmp_path, spec):
    """Names that are numpy.savez's own arguments (`file`, `allow_pickle`) are saved like any other."""
    out = tmp_path / "out.npz"
    assert main(["run", str(spec), "-o", str(out), "--all"]) == 0
    with np.load(out, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["../victim/notes", "/tmp/absolute", "allow_pickle", "file"]
        assert archive["file"].shape == (1, 4, 6, 6)
        assert (archive["file"] >= 0).all()  # a ReLU's output


def test_names_an_npz_cannot_keep_are_refused_before_computing(tmp_path, capsys):
    spec = tmp_path / "nul.yaml"
    spec.write_text('inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {name: "a\\0b", type: ReLU}\n  - {name: "a\\0c", type: ReLU}\n')
    out = tmp_path / "out.npz"
    assert main(["run", str(spec), "-o", str(out), "--all"]) == 2
    assert "NUL" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("command", ["run", "render"])
def test_special_files_at_the_output_are_refused(tmp_path, spec, capsys, command):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    folder = tmp_path / "folder"
    folder.mkdir()
    extra = ["--format", "dot"] if command == "render" else []
    refused = [(fifo, "not a regular file"), (link, "symbolic link")]
    if command == "run":  # render -o FOLDER draws each spec into the folder
        refused.append((folder, "folder"))
    for path, why in refused:
        assert main([command, str(spec), "-o", str(path), *extra]) == 2
        assert why in capsys.readouterr().err
    assert fifo.is_fifo() and link.is_symlink() and target.read_text() == "keep"
    assert main([command, str(spec), "-o", str(link), "--force", *extra]) == 0
    assert not link.is_symlink() and link.stat().st_size > 0 and target.read_text() == "keep"


def test_run_argument_errors_are_clear(tmp_path, spec, capsys):
    archive = tmp_path / "in.npz"
    np.savez(archive, x=np.zeros((1, 3, 8, 8), np.float32))
    assert main(["run", str(spec), "-o", str(tmp_path / "o.npz"), "-i", f"x={archive}"]) == 2
    assert ".npz archive" in capsys.readouterr().err
    assert main(["run", str(spec), "-o", str(tmp_path / "o.npz"), "--max-memory", "inf"]) == 2
    assert "cannot read 'inf' as a size: give a number of bytes" in capsys.readouterr().err


def _npz_claiming(path: Path, key: str, shape: tuple[int, ...]) -> None:
    """An .npz whose one member's header claims ``shape`` float32 but holds no data."""
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(key + ".npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)


def test_weights_are_checked_by_their_headers_before_loading(tmp_path, spec, capsys):
    weights = tmp_path / "w.npz"
    _npz_claiming(weights, "unrelated.weight", (300_000_000,))  # 1.2 GB claimed in a file of a few hundred bytes
    assert weights.stat().st_size < 1000
    assert main(["run", str(spec), "-o", str(tmp_path / "o.npz"), "-w", str(weights), "--max-memory", "100MB"]) == 2
    assert "more than the 100.0 MB allowed" in capsys.readouterr().err


def test_nan_and_complex_weights_are_reported(tmp_path, capsys):
    spec = tmp_path / "conv.yaml"
    spec.write_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3}\n")
    nan = tmp_path / "nan.npz"
    np.savez(nan, **{"conv.weight": np.full((4, 3, 3, 3), np.nan, np.float32), "conv.bias": np.zeros(4, np.float32)})
    assert main(["run", str(spec), "-o", str(tmp_path / "o.npz"), "-w", str(nan)]) == 0
    assert "conv.weight hold NaN or infinite values" in capsys.readouterr().err
    complex_ = tmp_path / "complex.npz"
    np.savez(complex_, **{"conv.weight": np.ones((4, 3, 3, 3), np.complex64)})
    assert main(["run", str(spec), "-o", str(tmp_path / "o.npz"), "-w", str(complex_)]) == 2
    assert "complex numbers" in capsys.readouterr().err
