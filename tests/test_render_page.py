"""`convlint render -o net.html` in a real headless browser (Chromium, driven by Playwright): the page
loads with no network access, a block expands, a click on a box shows its layers' arithmetic, a
finding links to its box, and the summary table lists every layer.

Expectations come from the specs' YAML and from PyTorch (output sizes, parameter counts).
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml

from convlint.cli.main import main

torch = pytest.importorskip("torch")
sync_api = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")

SPECS = Path(__file__).resolve().parent.parent / "specs"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def test_chromium_is_installed():
    """The page tests below need a Chromium; this one says so by failing."""
    assert CHROMIUM, "install Chromium (apt-get install chromium) to run the page tests"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def open_page(browser, path: Path):
    """The page at ``path``, with every request that is not the file itself refused and recorded."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside, errors = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def refuse(route):
        if route.request.url != path.as_uri():
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", refuse)
    page.goto(path.as_uri())
    return page, outside, errors


def depth_shown(page) -> str:
    return page.eval_on_selector("#depth", "select => select.options[select.selectedIndex].text")


def test_resnet50_page_expands_a_stage_and_shows_a_layers_arithmetic(browser, tmp_path):
    spec = yaml.safe_load((SPECS / "resnet50.yaml").read_text())
    out = tmp_path / "r50.html"
    assert main(["render", str(SPECS / "resnet50.yaml"), "-o", str(out)]) == 0
    page, outside, errors = open_page(browser, out)
    assert depth_shown(page) == "1"
    stage = next(layer for layer in spec["layers"] if layer["name"] == "layer2")
    page.locator("g.node", has_text="layer2").first.click()
    details = page.inner_text("#details")
    assert f"Bottleneck ×{stage['repeat']}" in details
    # PyTorch: layer2's first 3×3 conv, stride 2, padding 1, reads 56×56 and gives 28×28
    conv = torch.nn.Conv2d(128, 128, 3, stride=2, padding=1, bias=False)
    assert conv(torch.zeros(1, 128, 56, 56)).shape[-1] == 28
    assert "H_out = (56 + 2·1 − 3)/2 + 1 = 28.5, floored to 28" in details
    assert f"params {sum(p.numel() for p in conv.parameters()):,}" in details
    assert "MACs" in details and "receptive field" in details
    page.click("#expand")
    assert depth_shown(page) == "2"
    clusters = page.eval_on_selector_all("g.cluster title", "titles => titles.length")
    assert clusters >= 4
    boxes = page.eval_on_selector_all("g.node > g > a", "links => links.map(a => a.getAttribute('xlink:title'))")
    assert any(title.startswith("layer2.0: Bottleneck") for title in boxes)
    page.locator("g.node.selected").click()  # the expanded block's first copy, centred and selected
    assert page.inner_text("#details").startswith("layer2.0 · Bottleneck")
    rows = page.eval_on_selector_all("#summary tbody tr", "rows => rows.length")
    assert rows == len([name for name in page.evaluate("Object.keys(data.layers)")]) + 1
    shot = Image.open(io.BytesIO(page.screenshot(path=str(tmp_path / "r50.png"))))
    assert shot.size == (1400, 900) and len(shot.convert("RGB").getcolors(maxcolors=1 << 20)) > 50
    assert not outside and not errors


def test_a_finding_links_to_its_box_and_a_cluster_label_collapses_its_block(browser, tmp_path):
    text = (SPECS / "unet_original.yaml").read_text()
    assert "image: [1, 1, 572, 572]" in text
    spec = tmp_path / "odd.yaml"
    spec.write_text(text.replace(
        "  - {name: up4, type: Up, from: [up3, inc], out: 64}",
        "  - {name: up4, type: Up, from: [up3, inc], out: 64}\n  - {name: odd, type: MaxPool2d, kernel_size: 3}"))
    out = tmp_path / "odd.html"
    main(["render", str(spec), "-o", str(out)])
    page, outside, errors = open_page(browser, out)
    finding = page.locator("#findings li[data-layer]").first
    layer = finding.get_attribute("data-layer")
    message = finding.inner_text()
    finding.click()
    assert page.inner_text("#details").startswith(layer)
    assert message in page.inner_text("#details p.finding")
    assert page.locator("g.node.selected").count() == 1
    page.click("#fit")
    page.locator("g.cluster text", has_text="up2 · Up").click()  # collapse the Up blocks
    assert depth_shown(page) == "1"
    assert page.locator("g.node.selected").text_content().split()[1:3] == ["up2", "Up"]  # after its id
    assert page.inner_text("#details").startswith("up2 · Up")
    assert not outside and not errors


def test_named_sizes_show_as_expressions(browser, tmp_path):
    text = (SPECS / "resnet50.yaml").read_text()
    assert "image: [1, 3, 224, 224]" in text
    spec = tmp_path / "named.yaml"
    spec.write_text(text.replace("image: [1, 3, 224, 224]", "image: [N, 3, H, W]"))
    out = tmp_path / "named.html"
    assert main(["render", str(spec), "-o", str(out)]) == 0
    page, outside, errors = open_page(browser, out)
    page.locator("g.node", has_text="layer1").first.click()
    assert "output N×256×" in page.inner_text("#details")
    assert "N×256×" in page.inner_text("#summary")
    assert not outside and not errors


def test_hostile_names_stay_text(browser, tmp_path):
    spec = tmp_path / "hostile.yaml"
    name = "</script><script>window.hacked = 1</script><!--"
    spec.write_text("inputs: {x: [1, 3, 16, 16]}\nlayers:\n"
                    f"  - {{name: '{name}', type: Conv2d, out_channels: 4, kernel_size: 3}}\n")
    out = tmp_path / "hostile.html"
    assert main(["render", str(spec), "-o", str(out)]) == 0
    page, outside, errors = open_page(browser, out)
    assert page.evaluate("window.hacked === undefined")
    page.locator("g.node", has_text="Conv2d").first.click()
    assert page.inner_text("#details").startswith(name)
    assert name in page.inner_text("#summary")
    assert not outside and not errors
