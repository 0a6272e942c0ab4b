"""The rule catalogue: every finding code, its title, severity and documentation.

Codes are stable: a letter for the area (Y spec structure, C composition blocks, G graph, S shape,
B budgets, N suppressions, X plugin faults) and three digits.  Each doc has the sections What it does /
Why it matters / Example / Fix, printed by ``convlint rule CODE``.
"""
from __future__ import annotations

from dataclasses import dataclass

from convlint.findings import Severity


@dataclass(frozen=True)
class Rule:
    """A finding code with its one-line title, default severity and documentation."""

    code: str
    title: str
    severity: Severity
    doc: str
    default_enabled: bool = True


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

_RULES = [
    Rule("Y001", "YAML cannot be parsed", E, """
What it does: reports a YAML syntax error, a file that is not UTF-8 text, or YAML that convlint
refuses to read: a tag such as `!!python/object` (only plain values are read), nesting deeper
than 100 levels, an alias inside the collection it names, more than 500,000 values (aliases
counted as what they stand for: "billion laughs"), several documents, or a file over 2 MiB.
Why it matters: nothing in the file can be checked until it parses, and a hostile file must
not run code or exhaust memory.
Example: `layers: [ {name: a, type: Conv2d`  (unclosed flow mapping)
Fix: correct the YAML at the reported line."""),
    Rule("Y002", "Spec structure is wrong", E, """
What it does: reports a top-level key or section of the wrong kind: `inputs` that is not a
mapping of name to shape, `layers` that is not a list of mappings (or lists more than 25,000),
a shape that is not a list of positive integers below 2**63, `outputs` that is not a list of names.
Why it matters: the spec cannot be turned into a graph.
Example: `inputs: [1, 3, 224, 224]`
Fix: `inputs: {image: [1, 3, 224, 224]}`."""),
    Rule("Y003", "Duplicate mapping key", E, """
What it does: reports a key that appears twice in one YAML mapping.
Why it matters: YAML loaders silently keep the last value, so one of the two settings is ignored.
Example: `{type: Conv2d, kernel_size: 3, kernel_size: 5}`
Fix: delete one of the two keys."""),
    Rule("Y004", "Layer has no type", E, """
What it does: reports a layer without a `type` key.
Why it matters: the layer's meaning, and every size after it, is unknown.
Example: `- {name: conv1, out_channels: 64}`
Fix: add `type: Conv2d` (or the torch.nn class you mean)."""),
    Rule("Y005", "Keyword argument has the wrong type", E, """
What it does: reports a keyword argument whose value has the wrong type or range, for example
a string or float where PyTorch takes an int, a list of the wrong length, or a negative stride.
Why it matters: PyTorch would refuse the layer, or silently use a different value.
Example: `{type: Conv2d, out_channels: 64, kernel_size: 3.5}`
Fix: use the type the torch.nn class documents (`kernel_size: 3`)."""),
    Rule("Y006", "Unknown keyword argument", E, """
What it does: reports a key that the layer type does not accept, and suggests the closest one.
Why it matters: a misspelled keyword (`strides`, `pading`) is a setting that silently does nothing.
Example: `{type: Conv2d, out_channels: 64, kernel_size: 3, strides: 2}`
Fix: use the torch.nn keyword name (`stride: 2`)."""),
    Rule("Y007", "Unknown layer type", E, """
What it does: reports a `type` that no loaded plugin provides, and suggests the closest one.
Why it matters: the layer cannot be checked, and nothing after it can be sized.
Example: `{type: Conv2D, ...}`
Fix: use the torch.nn class name (`Conv2d`), or install the plugin that provides the type."""),
    Rule("Y008", "Required keyword argument missing", E, """
What it does: reports a keyword that the torch.nn class requires but the layer leaves out.
Why it matters: PyTorch would refuse to build the layer.
Example: `{type: Conv2d, kernel_size: 3}`  (no out_channels)
Fix: add the keyword (`out_channels: 64`)."""),
    Rule("C001", "Block definition or use is wrong", E, """
What it does: reports a block (see `blocks:`) that cannot be expanded: a definition without a
`layers` list, a use that sets a parameter the block does not have, a `$name` or `$(expression)`
naming no parameter, a `repeat` that is not a positive integer, a `when` that is not true or false,
or a `from` that gives a different number of tensors than the block has inputs.
Why it matters: the layers of the block cannot be built, so nothing after them can be sized.
Example: `{name: layer1, type: Bottleneck, plane: 64}` when the parameter is `planes`
Fix: use the block's parameter names (the closest one is suggested) and valid values."""),
    Rule("C002", "Block uses itself", E, """
What it does: reports a block whose layers use the block itself, directly or through other blocks.
Why it matters: the expansion would never end.
Example: block `A` has a layer of type `B`, and block `B` a layer of type `A`
Fix: break the loop; repeat a block with `repeat: n` instead of nesting it in itself."""),
    Rule("G001", "Reference to an unknown tensor", E, """
What it does: reports a `from` or `outputs` entry that names no input and no layer.
Why it matters: the layer has no input, so the graph is broken.
Example: `{name: cat, type: Concat, from: [up1, enc_1]}` when the layer is called `enc1`
Fix: use an existing name (the closest one is suggested)."""),
    Rule("G002", "Cycle in the graph", E, """
What it does: reports layers whose `from` references form a loop.
Why it matters: a feed-forward network cannot consume its own output.
Example: `a` takes `from: b` and `b` takes `from: a`
Fix: break the loop so that every layer reads only earlier tensors."""),
    Rule("G003", "Duplicate name", E, """
What it does: reports a layer or input name used twice.
Why it matters: `from` references and weight keys become ambiguous.
Example: two layers both named `conv1`
Fix: rename one of them."""),
    Rule("G004", "Wrong number of inputs", E, """
What it does: reports a layer fed more or fewer tensors than it takes: a Conv2d with two
`from` entries, or a Concat/Add with fewer than two.
Why it matters: PyTorch modules such as Conv2d take exactly one tensor.
Example: `{type: Conv2d, from: [a, b], ...}`
Fix: merge the tensors first with Concat or Add."""),
    Rule("S001", "Input silently dropped", W, """
What it does: reports a window layer whose output size is not an integer, so that the last
rows or columns of real input are read by no window. With r = (in + 2p − d(k−1) − 1) mod s,
the last r positions of the padded input are never read; when r exceeds the right padding,
real input is lost. A remainder that falls only in padding (ResNet's 7×7, stride 2, padding 3
conv on 224) is not reported, and neither is a layer whose stride exceeds its window (a 1×1
stride-2 downsample skips positions by design; see S013).
Why it matters: PyTorch floors the size silently, so the network trains on cropped input and
an encoder–decoder's skip connections stop lining up for some image sizes.
Example: `Conv2d(kernel_size=2, stride=2)` on 5×5: H_out = (5 + 2·0 − 2)/2 + 1 = 2.5, row 5 is never read.
Fix: change the padding or kernel so the division is exact, or use an input size that divides."""),
    Rule("S002", "Output size is zero or negative", E, """
What it does: reports a layer whose computed output size along some axis is ≤ 0.
Why it matters: PyTorch raises "Output size is too small" at run time.
Example: `MaxPool2d(kernel_size=2)` on a 1×1 feature map: H_out = (1 + 2·0 − 2)/2 + 1 = 0.5 → 0
Fix: use a larger input, fewer downsampling steps, or more padding."""),
    Rule("S003", "Kernel larger than the padded input", E, """
What it does: reports a convolution whose dilated kernel d(k−1)+1 exceeds the padded input, and an
AvgPool3d whose kernel exceeds the unpadded input (PyTorch checks that one before padding).
Why it matters: PyTorch raises "Kernel size can't be greater than actual input size".
Example: `Conv2d(kernel_size=7)` on a 5×5 input
Fix: pad the input, use a smaller kernel, or downsample less before this layer."""),
    Rule("S004", "Pool padding over half the kernel", E, """
What it does: reports a pooling layer with padding greater than kernel_size // 2.
Why it matters: PyTorch raises "pad should be at most half of effective kernel size".
Example: `MaxPool2d(kernel_size=2, padding=2)`
Fix: use padding ≤ kernel_size // 2."""),
    Rule("S005", "padding='same' with stride > 1", E, """
What it does: reports a convolution with `padding: same` and a stride other than 1.
Why it matters: PyTorch refuses it: "padding='same' is not supported for strided convolutions".
Example: `Conv2d(kernel_size=3, stride=2, padding='same')`
Fix: use an explicit padding (`padding: 1`)."""),
    Rule("S006", "groups does not divide the channels", E, """
What it does: reports a grouped convolution whose in_channels or out_channels is not divisible by groups.
Why it matters: PyTorch refuses the layer.
Example: `Conv2d(in_channels=30, out_channels=64, kernel_size=3, groups=4)`
Fix: choose groups that divide both channel counts."""),
    Rule("S007", "output_padding too large", E, """
What it does: reports a transposed convolution whose output_padding is not smaller than its
stride or its dilation.
Why it matters: PyTorch refuses it: "output padding must be smaller than either stride or dilation".
Example: `ConvTranspose2d(kernel_size=3, stride=2, output_padding=2)`
Fix: use output_padding < stride."""),
    Rule("S008", "Declared input size does not match", E, """
What it does: reports a declared `in_channels`, `in_features` or `num_features` that differs
from the size of the tensor the layer actually receives (for Linear, its last dimension).
Why it matters: PyTorch raises a shape error at the first forward pass.
Example: `Linear(in_features=4096)` fed a 9216-feature vector
Fix: correct the number, or leave it out to have it inferred."""),
    Rule("S009", "Concat inputs do not fit", E, """
What it does: reports a Concat whose inputs differ in rank or in a dimension other than `dim`,
naming both producers and their shapes.
Why it matters: torch.cat raises "Sizes of tensors must match except in dimension 1".
Example: an upsampled 2×16×33×33 map concatenated with a 2×16×32×32 skip
Fix: adjust padding, output_padding or the input size so the two branches meet."""),
    Rule("S010", "Add inputs have different shapes", E, """
What it does: reports an Add whose inputs do not all have the same shape, naming both producers.
Why it matters: a residual sum of different shapes fails (or silently broadcasts).
Example: a 64-channel identity added to a 128-channel branch without a downsample
Fix: add a projection (1×1 conv) or match strides on the branches."""),
    Rule("S011", "Input of the wrong rank", E, """
What it does: reports a layer fed a tensor with the wrong number of dimensions, such as a
Conv2d fed (N, C, L) or a Linear fed a 4-D map without Flatten.
Why it matters: PyTorch raises an error for the input's dimensionality.
Example: `Linear` after a Conv2d without `Flatten`
Fix: insert Flatten, or use the layer of the right dimensionality (Conv1d/2d/3d)."""),
    Rule("S012", "Invalid layer setting", E, """
What it does: reports a keyword value that PyTorch rejects for reasons other than its type:
a zero kernel, stride or dilation, an unknown padding mode, Upsample with both `size` and
`scale_factor`, a Flatten range outside the tensor.
Why it matters: PyTorch refuses the layer when it is built or run.
Example: `Upsample(size: 64, scale_factor: 2)`
Fix: use one of the values the torch.nn class documents."""),
    Rule("S013", "Strided layer skips input by design", I, """
What it does: notes a layer whose stride exceeds its window (such as a 1×1 stride-2 conv), so
that some input positions are never read. Off by default.
Why it matters: usually intended (ResNet's downsample), but worth knowing when it is not.
Example: `Conv2d(kernel_size=1, stride=2)`
Fix: none needed when intended; otherwise use a kernel at least as large as the stride.""",
         default_enabled=False),
    Rule("S014", "Remainder falls only in padding", I, """
What it does: notes a window layer whose output size is not an integer although every row or
column of real input is read: the last positions no window reaches are padding only (ResNet's
7×7, stride 2, padding 3 conv on 224). Off by default; enable it with `select`/`extend-select`
or `report-padding-only-remainder = true`.
Why it matters: nothing is lost, but the layer's padding is asymmetric in effect, which matters
when its output must line up exactly with another branch or be inverted by a transposed conv.
Example: `Conv2d(kernel_size=7, stride=2, padding=3)` on 224: H_out = (224 + 2·3 − 7)/2 + 1 = 112.5,
the one unread position is right padding.
Fix: none needed when intended; otherwise reduce the padding by the remainder.""",
         default_enabled=False),
    Rule("S015", "No input size is valid", E, """
What it does: for a spec whose input sizes are names (`image: [N, 3, H, W]`), reports a name
for which no value at all makes the network lint clean, with the reason at one value.
The check is exact (see `convlint sizes`), not a sample of sizes.
Why it matters: the network cannot be used at any input size until a layer is changed.
Example: `inputs: {x: [1, 3, S, S]}`, then `Conv2d(kernel_size: 3)` on one branch and
`Conv2d(kernel_size: 1)` on the other, concatenated: the branches always differ by 2 pixels.
Fix: change the padding or kernel named in the message so that the branches meet."""),
    Rule("S016", "Named sizes cannot be followed", W, """
What it does: for a spec with named input sizes, reports a layer whose size arithmetic the
exact size solver does not know (a layer type from a third-party plugin, an Upsample
scale_factor that is not a simple fraction, flattened sizes that are concatenated or compared).
Why it matters: the spec is not checked for any size; lint a copy with numbers instead.
Example: a plugin layer `PixelShuffle` in a spec with `inputs: {x: [1, 16, H, W]}`
Fix: give the inputs numeric sizes, or use built-in layers."""),
    Rule("S017", "Only some input sizes are valid", I, """
What it does: for a spec whose input sizes are names (`image: [N, 3, H, W]`), says in one line
which values of the names are valid when some sizes fail and others work (`H ≡ 0 or 3 (mod 4)`).
Why it matters: the spec passes lint, but a caller with another image size gets dropped input or
mismatched branches; the condition belongs in the network's documentation or its input checks.
Example: `inputs: {image: [N, 3, H, W]}`, a stride-2 conv then a 2×2 max-pool and a transposed conv
concatenated with the conv's output: the branches meet only when `H ≡ 0 or 3 (mod 4)`.
Fix: nothing to change if the condition is intended; `convlint sizes` lists the valid sizes and
explains each failing one, and padding or kernel changes there make more sizes valid."""),
    Rule("B001", "Budget exceeded", E, """
What it does: reports a spec whose total parameter count (or MAC count, where convlint counts
MACs) exceeds the `budget` declared in the spec (`budget: {params: 1000000}`) or in the
configuration (`[tool.convlint.budget]`).
Why it matters: a pull request that quietly makes a model larger than its deployment target
allows fails in CI instead of on the device.
Example: `budget: {params: 60000}` on LeNet-5, which has 61,706 parameters
Fix: shrink the model (fewer channels, a smaller Linear layer) or raise the budget deliberately."""),
    Rule("N001", "Unused suppression comment", W, """
What it does: reports a `# convlint: noqa: CODE` comment that silenced nothing: the code is not
reported on that layer, is not enabled, or is not a rule code at all.
Why it matters: stale suppressions hide future findings on the same line and mislead readers.
Example: `- {name: c1, type: Conv2d, out_channels: 8, kernel_size: 3}  # convlint: noqa: S001`
Fix: delete the comment, or the codes in it that no longer apply."""),
    Rule("X001", "Plugin failed", E, """
What it does: reports a layer plugin that raised an exception, returned something that is not
a valid result, or registered a layer type that another plugin already owns. It names the plugin
and the layer.
Why it matters: the layer could not be checked; this is a bug in the plugin, not in the spec.
Example: a third-party plugin whose shape function raises ZeroDivisionError
Fix: report it to the plugin's authors, or disable the plugin."""),
    Rule("X002", "Internal error", E, """
What it does: reports an unexpected failure inside convlint itself while checking a file, with the
file and the exception; the other files are still checked.
Why it matters: the file could not be fully checked. This is always a bug in convlint.
Example: none known; every such report is a bug to fix.
Fix: report it with the spec file that triggers it."""),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def rule_doc(rule: Rule) -> str:
    """The full documentation of one rule: ``CODE: title (severity)`` then its sections."""
    return f"{rule.code}: {rule.title} ({rule.severity.value})\n{rule.doc.strip()}\n"
