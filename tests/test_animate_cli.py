"""`convlint animate` as a user runs it: spec layers, ad-hoc layers, named sizes, the three formats,
timing, determinism, and clear messages for what cannot be drawn."""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from convlint.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
ODD_UNET = ROOT / "tests" / "fixtures" / "broken" / "unet_odd_input.yaml"


def animate(capsys, *args) -> tuple[int, str, str]:
    code = main(["animate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def svg_text(path: Path) -> str:
    """The text of every <text> element of an SVG, one per line (so it is parsed XML, not grepped)."""
    return "\n".join(element.text or "" for element in ET.parse(path).getroot().iter(f"{SVG}text"))


def test_unet_up1_gif_shows_the_transposed_convolution(tmp_path):
    target = tmp_path / "up1.gif"
    done = subprocess.run([sys.executable, "-m", "convlint", "animate", "specs/unet.yaml", "up1", "-o", str(target)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {target}: 64 frame(s)\n"
    with Image.open(target) as image:
        assert image.format == "GIF"
        assert image.n_frames == 64  # 128×128 outputs: the first and last 4 per axis


def test_unet_up1_caption_has_the_transposed_arithmetic(tmp_path, capsys):
    code, _, err = animate(capsys, "specs/unet.yaml", "up1", "-o", tmp_path / "up1.svg")
    assert code == 0, err
    text = svg_text(tmp_path / "up1.svg")
    assert "H_out = (64 − 1)·2 − 2·0 + 1·(2 − 1) + 0 + 1 = 128" in text
    assert "input 64×64, zeros inserted, padded" in text
    assert "frame 1/64: out[0, 0] ← input rows 0, columns 0" in text
    assert "frame 64/64: out[127, 127] ← input rows 63, columns 63" in text


def test_ad_hoc_layer_caption_floors(tmp_path, capsys):
    code, out, _ = animate(capsys, "--type", "Conv2d", "--input", 7, "--kernel-size", 3, "--stride", 2, "--padding", 1,
                           "-o", tmp_path / "x.svg")
    assert (code, out) == (0, f"wrote {tmp_path / 'x.svg'}: 16 frame(s)\n")
    text = svg_text(tmp_path / "x.svg")
    assert "H_out = ⌊(7 + 2·1 − 3)/2⌋ + 1 = 4" in text
    assert "W_out = ⌊(7 + 2·1 − 3)/2⌋ + 1 = 4" in text


def test_svg_switches_one_group_per_frame_on_one_clock(tmp_path, capsys):
    code, _, _ = animate(capsys, "--type", "Conv2d", "--input", 6, "--kernel-size", 3, "--stride", 2, "--padding", 1,
                         "--frame-ms", 250, "-o", tmp_path / "odd.svg")
    assert code == 0
    animations = list(ET.parse(tmp_path / "odd.svg").getroot().iter(f"{SVG}animate"))
    assert {a.get("dur") for a in animations} == {"2.25s"}  # 9 frames × 0.25 s
    # each frame has its own group, plus one per output cell that stays filled after its frame
    assert len(animations) == 9 + 9 - 1


def test_gif_frame_timing_and_count(tmp_path, capsys):
    target = tmp_path / "x.gif"
    code, _, _ = animate(capsys, "--type", "MaxPool2d", "--input", 5, "--kernel-size", 2, "--ceil-mode", "true",
                         "--frame-ms", 250, "-o", target)
    assert code == 0
    with Image.open(target) as image:
        assert image.n_frames == 9  # ⌈(5 − 2)/2⌉ + 1 = 3 per axis
        assert image.info["duration"] == 250


def test_png_contact_sheet_holds_every_frame(tmp_path, capsys):
    sheet, single = tmp_path / "sheet.png", tmp_path / "one.gif"
    assert animate(capsys, "--type", "Conv1d", "--input", 9, "--kernel-size", 3, "--stride", 2, "-o", sheet)[0] == 0
    assert animate(capsys, "--type", "Conv1d", "--input", 9, "--kernel-size", 3, "--stride", 2, "-o", single)[0] == 0
    with Image.open(single) as frame, Image.open(sheet) as image:
        assert frame.n_frames == 4  # 1-D: (9 − 3)/2 + 1 = 4 output cells
        assert image.size == (4 * frame.size[0], frame.size[1])  # four frames in one row


@pytest.mark.parametrize("suffix", ["gif", "svg", "png"])
def test_same_command_same_bytes(tmp_path, capsys, suffix):
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    arguments = ["--type", "ConvTranspose2d", "--input", 3, "--kernel-size", 3, "--stride", 2, "--padding", 1,
                 "--output-padding", 1, "--transposed-as", "scatter"]
    assert animate(capsys, *arguments, "-o", first)[0] == 0
    assert animate(capsys, *arguments, "-o", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_scatter_view_has_one_frame_per_input_cell(tmp_path, capsys):
    code, out, _ = animate(capsys, "--type", "ConvTranspose2d", "--input", "3,2", "--kernel-size", 3, "--stride", 2,
                           "--transposed-as", "scatter", "-o", tmp_path / "s.svg")
    assert (code, out) == (0, f"wrote {tmp_path / 's.svg'}: 6 frame(s)\n")
    assert "frame 1/6: in[0, 0] → output rows 0–2, columns 0–2" in svg_text(tmp_path / "s.svg")


def test_dropped_input_named_with_its_rule(tmp_path, capsys):
    """down3 of the odd U-Net pools 25 → 12: row and column 24 are read by no window (S001)."""
    code, _, _ = animate(capsys, ODD_UNET, "down3", "-o", tmp_path / "d.svg")
    assert code == 0
    assert "input rows 24 and columns 24 never read (S001)" in svg_text(tmp_path / "d.svg")
    from convlint.render.draw import FINDING_FILL
    fills = [r.get("fill") for r in ET.parse(tmp_path / "d.svg").getroot().iter(f"{SVG}rect")]
    # 12 outputs per axis, the first and last 4 drawn: input 0–7 and 16–24, 17 cells; row and column 24
    # share one cell; one more swatch in the legend
    assert fills.count(FINDING_FILL) == 17 + 17 - 1 + 1


def test_named_sizes_need_a_number(tmp_path, capsys):
    spec = tmp_path / "named.yaml"
    spec.write_text("inputs:\n  image: [1, 3, H, W]\nlayers:\n"
                    "  - {name: down, type: MaxPool2d, kernel_size: 2}\n")
    code, _, err = animate(capsys, spec, "down", "-o", tmp_path / "x.svg")
    assert code == 2
    assert "has named input sizes (H, W); say which size to draw the layer at, e.g. --size H=64 --size W=64" in err
    code, out, err = animate(capsys, spec, "down", "--size", "H=5", "--size", "W=4", "-o", tmp_path / "x.svg")
    assert (code, err) == (0, "")
    assert "H_out = ⌊(5 + 2·0 − 2)/2⌋ + 1 = 2" in svg_text(tmp_path / "x.svg")
    code, _, err = animate(capsys, spec, "down", "--size", "X=5", "-o", tmp_path / "x.svg")
    assert code == 2 and "--size names X, but its named sizes are H, W" in err


@pytest.mark.parametrize("arguments, message", [
    (["specs/unet.yaml", "upp1"], "has no layer `upp1` (did you mean `up1`?)"),
    (["specs/unet.yaml", "enc1"], "`enc1` (ReLU) has no sliding window to draw"),
    (["--type", "Conv2d", "--input", "5", "--kernel", "3"], "Conv2d has no keyword `kernel` (did you mean `kernel_size`?)"),
    (["--type", "Conv2d", "--input", "5"], "kernel_size"),
    (["--type", "Conv2d", "--input", "2", "--kernel-size", "3"], "the output size of `layer` is unknown"),
    (["--type", "Conv3x3", "--input", "5"], "unknown layer type `Conv3x3`"),
    (["--type", "Conv2d", "--input", "five", "--kernel-size", "3"], "--input expects positive sizes"),
    (["specs/unet.yaml"], "name a spec and a layer"),
    (["specs/unet.yaml", "up1", "--stride", "2"], "--stride describe an ad-hoc layer"),
    (["specs/missing.yaml", "up1"], "specs/missing.yaml: cannot read the file"),
    (["pyproject.toml", "up1"], "pyproject.toml is not a spec"),
])
def test_what_cannot_be_drawn_is_said_clearly(tmp_path, capsys, arguments, message):
    code, out, err = animate(capsys, *arguments, "-o", tmp_path / "x.gif")
    assert code == 2
    assert out == ""
    assert err.startswith("convlint: error: ") and message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "x.gif").exists()


def test_a_broken_spec_names_its_errors(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("inputs: {x: [1, 1, 5, 5]}\nlayers:\n  - {name: up1, type: Conv2d\n")
    code, _, err = animate(capsys, broken, "up1", "-o", tmp_path / "x.gif")
    assert code == 2 and f"{broken} has no layer `up1`; the spec has errors:\n{broken}:4:1: Y001" in err, err
    assert not (tmp_path / "x.gif").exists()


def test_yaml_that_is_not_a_spec(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("name: not a network\n")
    code, _, err = animate(capsys, tmp_path / "config.yaml", "up1", "-o", tmp_path / "x.svg")
    assert code == 2 and f"{tmp_path / 'config.yaml'} is not a spec (no top-level `layers`)" in err


def test_output_suffix_is_checked(tmp_path, capsys):
    code, _, err = animate(capsys, "specs/unet.yaml", "up1", "-o", tmp_path / "x.jpg")
    assert code == 2 and "-o must end in .gif, .svg or .png" in err


def test_gif_without_pillow_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    code, _, err = animate(capsys, "specs/unet.yaml", "up1", "-o", tmp_path / "x.gif")
    assert code == 2 and "pip install 'convlint[images]'" in err
    assert animate(capsys, "specs/unet.yaml", "up1", "-o", tmp_path / "x.svg")[0] == 0  # SVG needs nothing


@pytest.mark.parametrize("arguments, message", [
    (["--input", "1000000000", "--kernel-size", "3"], "too large to draw"),
    (["--input", "9", "--kernel-size", "3", "--padding", "2000000"], "too large to draw"),
    (["--input", "200", "--kernel-size", "65"], "a kernel of at most 64 taps"),
    (["--input", "5000", "--kernel-size", "3", "--stride", "200"], "draw fewer with --max-cells"),
])
def test_huge_layers_are_refused_quickly(tmp_path, capsys, arguments, message):
    code, _, err = animate(capsys, "--type", "Conv2d", *arguments, "-o", tmp_path / "x.svg")
    assert code == 2 and message in err, err


def test_fewer_cells_make_a_wide_stride_drawable(tmp_path, capsys):
    code, out, _ = animate(capsys, "--type", "Conv2d", "--input", 5000, "--kernel-size", 3, "--stride", 200,
                           "--max-cells", 2, "-o", tmp_path / "x.svg")
    assert (code, out) == (0, f"wrote {tmp_path / 'x.svg'}: 4 frame(s)\n")


def test_bad_size_option(tmp_path, capsys):
    code, _, err = animate(capsys, "specs/unet.yaml", "up1", "--size", "H=0", "-o", tmp_path / "x.svg")
    assert code == 2 and "--size expects NAME=SIZE with a positive integer size (at most 18 digits), got 'H=0'" in err


def test_a_hostile_layer_name_is_cut_and_escaped(tmp_path, capsys):
    spec = tmp_path / "long.yaml"
    name = "<script>" + "x" * 5000
    spec.write_text(f"inputs:\n  image: [1, 1, 5, 5]\nlayers:\n  - {{name: '{name}', type: MaxPool2d, kernel_size: 2}}\n")
    code, _, err = animate(capsys, spec, name, "-o", tmp_path / "x.svg")
    assert (code, err) == (0, "")
    root = ET.parse(tmp_path / "x.svg").getroot()  # well-formed: the name is escaped
    assert int(root.get("width")) < 2000
    assert svg_text(tmp_path / "x.svg").splitlines()[0].startswith("<script>xxx")


def test_the_commands_in_the_docs_work(tmp_path, capsys):
    """Every concrete `convlint animate …` command in docs/animate.md and the gallery's README runs."""
    import shlex
    docs = (ROOT / "docs" / "animate.md").read_text() + (ROOT / "docs" / "animations" / "README.md").read_text()
    commands = set(re.findall(r"^convlint animate (.+)$|`convlint animate ([^`]+)`", docs, re.MULTILINE))
    commands = {a or b for a, b in commands}
    concrete = [c for c in commands if not re.search(r"[A-Z]{3,}|\||\[", c)]
    assert len(concrete) >= 16, concrete  # the usage lines left out, the examples and the 14 gallery cases kept
    for command in concrete:
        words = shlex.split(command)
        words[words.index("-o") + 1] = str(tmp_path / Path(words[words.index("-o") + 1]).name)
        code, _, err = animate(capsys, *words)
        assert (code, err) == (0, ""), command
