"""The rule catalogue: every finding code, its title, severity and documentation.

Codes are stable: a letter for the area (Y spec structure, C composition blocks, G graph, S shape,
B budgets, N suppressions, I imported operations, X plugin faults) and three digits.  Each rule's documentation is four
fields (``what``, ``why``, ``example``, ``fix``): the sections What it does / Why it matters / Example / Fix
printed by ``convlint rule CODE``, shown in SARIF and on the generated docs/rules.md page.
"""
from __future__ import annotations

from dataclasses import dataclass

from convlint.findings import Severity


SECTIONS = ("What it does", "Why it matters", "Example", "Fix")
"""The headings of a rule's documentation, in order: the fields ``what``, ``why``, ``example`` and ``fix``."""


@dataclass(frozen=True)
class Rule:
    """A finding code with its one-line title, default severity and documentation.

    ``what`` (what it reports), ``why`` (why it matters), ``example`` (a spec fragment that
    triggers it) and ``fix`` (how to fix it) are the sections of its documentation, as
    Markdown text; an empty field is a missing section.
    """

    code: str
    title: str
    severity: Severity
    what: str = ""
    why: str = ""
    example: str = ""
    fix: str = ""
    default_enabled: bool = True

    @property
    def sections(self) -> dict[str, str]:
        """The documentation's sections that are not empty, keyed by heading (see :data:`SECTIONS`), as written."""
        texts = (self.what, self.why, self.example, self.fix)
        return {heading: text.strip() for heading, text in zip(SECTIONS, texts) if text.strip()}

    @property
    def doc(self) -> str:
        """The documentation as text: one ``Heading: text`` paragraph per section."""
        return "\n".join(f"{heading}: {text}" for heading, text in self.sections.items())


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

_RULES = [
    Rule("Y001", "YAML cannot be parsed", E,
         what="""reports a YAML syntax error, a file that is not UTF-8 text, or YAML that convlint
refuses to read: a tag such as `!!python/object` (only plain values are read), nesting deeper
than 100 levels, an alias inside the collection it names, more than 500,000 values (aliases
counted as what they stand for: "billion laughs"), several documents, or a file over 2 MiB; for
an `.onnx` file, one that is no readable ONNX model, or whose layers read a constant of text or
complex values.""",
         why="""nothing in the file can be checked until it parses, and a hostile file must
not run code or exhaust memory.""",
         example="""`layers: [ {name: a, type: Conv2d`  (unclosed flow mapping)""",
         fix="""correct the YAML at the reported line."""),
    Rule("Y002", "Spec structure is wrong", E,
         what="""reports a top-level key or section of the wrong kind: `inputs` that is not a
mapping of name to shape, `layers` that is not a list of mappings (or lists more than 25,000),
a shape that is not a list of positive integers below 2**63, `outputs` that is not a list of names.""",
         why="""the spec cannot be turned into a graph.""",
         example="""`inputs: [1, 3, 224, 224]`""",
         fix="""`inputs: {image: [1, 3, 224, 224]}`."""),
    Rule("Y003", "Duplicate mapping key", E,
         what="""reports a key that appears twice in one YAML mapping.""",
         why="""YAML loaders silently keep the last value, so one of the two settings is ignored.""",
         example="""`{type: Conv2d, kernel_size: 3, kernel_size: 5}`""",
         fix="""delete one of the two keys."""),
    Rule("Y004", "Layer has no type", E,
         what="""reports a layer without a `type` key.""",
         why="""the layer's meaning, and every size after it, is unknown.""",
         example="""`- {name: conv1, out_channels: 64}`""",
         fix="""add `type: Conv2d` (or the torch.nn class you mean)."""),
    Rule("Y005", "Keyword argument has the wrong type", E,
         what="""reports a keyword argument whose value has the wrong type or range, for example
a string or float where PyTorch takes an int, a list of the wrong length, or a negative stride.""",
         why="""PyTorch would refuse the layer, or silently use a different value.""",
         example="""`{type: Conv2d, out_channels: 64, kernel_size: 3.5}`""",
         fix="""use the type the torch.nn class documents (`kernel_size: 3`)."""),
    Rule("Y006", "Unknown keyword argument", E,
         what="""reports a key that the layer type does not accept, and suggests the closest one.""",
         why="""a misspelled keyword (`strides`, `pading`) is a setting that silently does nothing.""",
         example="""`{type: Conv2d, out_channels: 64, kernel_size: 3, strides: 2}`""",
         fix="""use the torch.nn keyword name (`stride: 2`)."""),
    Rule("Y007", "Unknown layer type", E,
         what="""reports a `type` that no loaded plugin provides, and suggests the closest one.""",
         why="""the layer cannot be checked, and nothing after it can be sized.""",
         example="""`{type: Conv2D, ...}`""",
         fix="""use the torch.nn class name (`Conv2d`), or install the plugin that provides the type."""),
    Rule("Y008", "Required keyword argument missing", E,
         what="""reports a keyword that the torch.nn class requires but the layer leaves out.""",
         why="""PyTorch would refuse to build the layer.""",
         example="""`{type: Conv2d, kernel_size: 3}`  (no out_channels)""",
         fix="""add the keyword (`out_channels: 64`)."""),
    Rule("C001", "Block definition or use is wrong", E,
         what="""reports a block (see `blocks:`) that cannot be expanded: a definition without a
`layers` list, a use that sets a parameter the block does not have, a `$name` or `$(expression)`
naming no parameter, a `repeat` that is not a positive integer, a `when` that is not true or false,
or a `from` that gives a different number of tensors than the block has inputs.""",
         why="""the layers of the block cannot be built, so nothing after them can be sized.""",
         example="""`{name: layer1, type: Bottleneck, plane: 64}` when the parameter is `planes`""",
         fix="""use the block's parameter names (the closest one is suggested) and valid values."""),
    Rule("C002", "Block uses itself", E,
         what="""reports a block whose layers use the block itself, directly or through other blocks.""",
         why="""the expansion would never end.""",
         example="""block `A` has a layer of type `B`, and block `B` a layer of type `A`""",
         fix="""break the loop; repeat a block with `repeat: n` instead of nesting it in itself."""),
    Rule("G001", "Reference to an unknown tensor", E,
         what="""reports a `from` or `outputs` entry that names no input and no layer.""",
         why="""the layer has no input, so the graph is broken.""",
         example="""`{name: cat, type: Concat, from: [up1, enc_1]}` when the layer is called `enc1`""",
         fix="""use an existing name (the closest one is suggested)."""),
    Rule("G002", "Cycle in the graph", E,
         what="""reports layers whose `from` references form a loop.""",
         why="""a feed-forward network cannot consume its own output.""",
         example="""`a` takes `from: b` and `b` takes `from: a`""",
         fix="""break the loop so that every layer reads only earlier tensors."""),
    Rule("G003", "Duplicate name", E,
         what="""reports a layer or input name used twice.""",
         why="""`from` references and weight keys become ambiguous.""",
         example="""two layers both named `conv1`""",
         fix="""rename one of them."""),
    Rule("G004", "Wrong number of inputs", E,
         what="""reports a layer fed more or fewer tensors than it takes: a Conv2d with two
`from` entries, or a Concat/Add with fewer than two.""",
         why="""PyTorch modules such as Conv2d take exactly one tensor.""",
         example="""`{type: Conv2d, from: [a, b], ...}`""",
         fix="""merge the tensors first with Concat or Add."""),
    Rule("S001", "Input silently dropped", W,
         what="""reports a window layer whose output size is not an integer, so that the last
rows or columns of real input are read by no window. With r = (in + 2p − d(k−1) − 1) mod s,
the last r positions of the padded input are never read; when r exceeds the right padding,
real input is lost. A remainder that falls only in padding (ResNet's 7×7, stride 2, padding 3
conv on 224) is not reported, and neither is a layer whose stride exceeds its window (a 1×1
stride-2 downsample skips positions by design; see S013).""",
         why="""PyTorch floors the size silently, so the network trains on cropped input and
an encoder–decoder's skip connections stop lining up for some image sizes.""",
         example="""`Conv2d(kernel_size=2, stride=2)` on 5×5: H_out = (5 + 2·0 − 2)/2 + 1 = 2.5, row 5 is never read.""",
         fix="""change the padding or kernel so the division is exact, or use an input size that divides."""),
    Rule("S002", "Output size is zero or negative", E,
         what="""reports a layer whose computed output size along some axis is ≤ 0.""",
         why="""PyTorch raises "Output size is too small" at run time.""",
         example="""`MaxPool2d(kernel_size=2)` on a 1×1 feature map: H_out = (1 + 2·0 − 2)/2 + 1 = 0.5 → 0""",
         fix="""use a larger input, fewer downsampling steps, or more padding."""),
    Rule("S003", "Kernel larger than the padded input", E,
         what="""reports a convolution whose dilated kernel d(k−1)+1 exceeds the padded input, and an
AvgPool3d whose kernel exceeds the unpadded input (PyTorch checks that one before padding).""",
         why="""PyTorch raises "Kernel size can't be greater than actual input size".""",
         example="""`Conv2d(kernel_size=7)` on a 5×5 input""",
         fix="""pad the input, use a smaller kernel, or downsample less before this layer."""),
    Rule("S004", "Pool padding over half the kernel", E,
         what="""reports a pooling layer with padding greater than kernel_size // 2.""",
         why="""PyTorch raises "pad should be at most half of effective kernel size".""",
         example="""`MaxPool2d(kernel_size=2, padding=2)`""",
         fix="""use padding ≤ kernel_size // 2."""),
    Rule("S005", "padding='same' with stride > 1", E,
         what="""reports a convolution with `padding: same` and a stride other than 1.""",
         why="""PyTorch refuses it: "padding='same' is not supported for strided convolutions".""",
         example="""`Conv2d(kernel_size=3, stride=2, padding='same')`""",
         fix="""use an explicit padding (`padding: 1`)."""),
    Rule("S006", "groups does not divide the channels", E,
         what="""reports a grouped convolution whose in_channels or out_channels is not divisible by groups.""",
         why="""PyTorch refuses the layer.""",
         example="""`Conv2d(in_channels=30, out_channels=64, kernel_size=3, groups=4)`""",
         fix="""choose groups that divide both channel counts."""),
    Rule("S007", "output_padding too large", E,
         what="""reports a transposed convolution whose output_padding is not smaller than its
stride or its dilation.""",
         why="""PyTorch refuses it: "output padding must be smaller than either stride or dilation".""",
         example="""`ConvTranspose2d(kernel_size=3, stride=2, output_padding=2)`""",
         fix="""use output_padding < stride."""),
    Rule("S008", "Declared input size does not match", E,
         what="""reports a declared `in_channels`, `in_features` or `num_features` that differs
from the size of the tensor the layer actually receives (for Linear, its last dimension).""",
         why="""PyTorch raises a shape error at the first forward pass.""",
         example="""`Linear(in_features=4096)` fed a 9216-feature vector""",
         fix="""correct the number, or leave it out to have it inferred."""),
    Rule("S009", "Concat inputs do not fit", E,
         what="""reports a Concat whose inputs differ in rank or in a dimension other than `dim`,
naming both producers and their shapes.""",
         why="""torch.cat raises "Sizes of tensors must match except in dimension 1".""",
         example="""an upsampled 2×16×33×33 map concatenated with a 2×16×32×32 skip""",
         fix="""adjust padding, output_padding or the input size so the two branches meet."""),
    Rule("S010", "Add inputs have different shapes", E,
         what="""reports an Add whose inputs do not all have the same shape, naming both producers.""",
         why="""a residual sum of different shapes fails (or silently broadcasts).""",
         example="""a 64-channel identity added to a 128-channel branch without a downsample""",
         fix="""add a projection (1×1 conv) or match strides on the branches."""),
    Rule("S011", "Input of the wrong rank", E,
         what="""reports a layer fed a tensor with the wrong number of dimensions, such as a
Conv2d fed (N, C, L) or a Linear fed a 4-D map without Flatten.""",
         why="""PyTorch raises an error for the input's dimensionality.""",
         example="""`Linear` after a Conv2d without `Flatten`""",
         fix="""insert Flatten, or use the layer of the right dimensionality (Conv1d/2d/3d)."""),
    Rule("S012", "Invalid layer setting", E,
         what="""reports a keyword value that PyTorch rejects for reasons other than its type:
a zero kernel, stride or dilation, an unknown padding mode, Upsample with both `size` and
`scale_factor`, a Flatten range outside the tensor.""",
         why="""PyTorch refuses the layer when it is built or run.""",
         example="""`Upsample(size: 64, scale_factor: 2)`""",
         fix="""use one of the values the torch.nn class documents."""),
    Rule("S013", "Strided layer skips input by design", I,
         what="""notes a layer whose stride exceeds its window (such as a 1×1 stride-2 conv), so
that some input positions are never read. Off by default.""",
         why="""usually intended (ResNet's downsample), but worth knowing when it is not.""",
         example="""`Conv2d(kernel_size=1, stride=2)`""",
         fix="""none needed when intended; otherwise use a kernel at least as large as the stride.""",
         default_enabled=False),
    Rule("S014", "Remainder falls only in padding", I,
         what="""notes a window layer whose output size is not an integer although every row or
column of real input is read: the last positions no window reaches are padding only (ResNet's
7×7, stride 2, padding 3 conv on 224). Off by default; enable it with `select`/`extend-select`
or `report-padding-only-remainder = true`.""",
         why="""nothing is lost, but the layer's padding is asymmetric in effect, which matters
when its output must line up exactly with another branch or be inverted by a transposed conv.""",
         example="""`Conv2d(kernel_size=7, stride=2, padding=3)` on 224: H_out = (224 + 2·3 − 7)/2 + 1 = 112.5,
the one unread position is right padding.""",
         fix="""none needed when intended; otherwise reduce the padding by the remainder.""",
         default_enabled=False),
    Rule("S015", "No input size is valid", E,
         what="""for a spec whose input sizes are names (`image: [N, 3, H, W]`), reports a name
for which no value makes the network lint clean, whatever the other names are: the layer that
fails at every size the layers before it accept, the sizes that come closest, and the finding at
one of them. Names coupled through a flattened size (Flatten, then a Linear's `in_features`) that
are each valid on their own but never together get one S015 at the layer, with the closest
sizes. The check is exact (see `convlint sizes`), not a sample of sizes.""",
         why="""the network cannot be used at any input size until a layer is changed.""",
         example="""`inputs: {x: [1, 3, S, S]}`, then `Conv2d(kernel_size: 3)` on one branch and
`Conv2d(kernel_size: 1)` on the other, concatenated: the branches always differ by 2 pixels.""",
         fix="""change the padding or kernel named in the message so that the branches meet."""),
    Rule("S016", "Named sizes cannot be followed", W,
         what="""for a spec with named input sizes, reports a layer whose sizes the exact size
solver cannot follow: a plugin layer type that gives no `symbolic_shape`, an Upsample
scale_factor that is not a simple fraction, flattened sizes that are concatenated, compared or
slid over, a Split into pieces of one size or a Chunk of a varying size (the number of pieces
changes with it), a `-1` of Reshape/View/Unflatten over a product of varying sizes that it does
not divide, a Mul broadcasting two different varying sizes, or sizes that settle or repeat only
after more values than the solver's budget.""",
         why="""the spec is not checked for any size; lint a copy with numbers instead.""",
         example="""a plugin layer `PixelShuffle` without `symbolic_shape` in a spec with `inputs: {x: [1, 16, H, W]}`""",
         fix="""give the inputs numeric sizes, add `symbolic_shape` to the plugin's layer type, or use
built-in layers."""),
    Rule("S017", "Size contract broken", E,
         what="""for a spec that declares the input sizes it must accept (`sizes: {H: {min: 256,
max: 2048, multiple_of: 32}, W: H}`, or a list such as `H: [224, 256]`), proves every one of
them valid (each for some values of the other names, as `convlint sizes` lists them), exactly and without
trying the sizes one by one, and reports the smallest one that is not, with the finding lint
gives there.""",
         why="""a change that breaks an input size the model must serve fails in CI instead of
in production.""",
         example="""`sizes: {H: {min: 96, max: 128, multiple_of: 4}}` on a U-Net with three 2×2 pools (valid
only at multiples of 8): H = 100 breaks it""",
         fix="""change the layers so that every promised size is valid (`convlint sizes` lists them), or
promise only the sizes the network accepts."""),
    Rule("S018", "Only some input sizes are valid", I,
         what="""for a spec whose input sizes are names (`image: [N, 3, H, W]`), says in one line
which values of the names are valid when some sizes fail and others work (`H ≡ 0 or 3 (mod 4)`).""",
         why="""the spec passes lint, but a caller with another image size gets dropped input or
mismatched branches; the condition belongs in the network's documentation or its input checks.""",
         example="""`inputs: {image: [N, 3, H, W]}`, a stride-2 conv then a 2×2 max-pool and a transposed conv
concatenated with the conv's output: the branches meet only when `H ≡ 0 or 3 (mod 4)`.""",
         fix="""nothing to change if the condition is intended; `convlint sizes` lists the valid sizes and
explains each failing one, and padding or kernel changes there make more sizes valid."""),
    Rule("S030", "Size not divisible by the layer's factor", E,
         what="""reports a layer that splits a dimension into equal parts that do not fit: GroupNorm
`num_groups` or ChannelShuffle `groups` that do not divide the channels, PixelShuffle channels not
divisible by upscale_factor², PixelUnshuffle sizes not divisible by downscale_factor.""",
         why="""PyTorch raises an error when the layer is built or first run.""",
         example="""`{type: GroupNorm, num_groups: 32}` after a 48-channel conv""",
         fix="""use a divisor of the size named in the message, or change the channels before the layer."""),
    Rule("S031", "Split sizes do not add up", E,
         what="""reports a Split whose list of section sizes does not add up to the size of the dim it cuts.""",
         why="""torch.split raises "split_with_sizes expects split_sizes to sum exactly to" the size.""",
         example="""`{type: Split, split_size_or_sections: [16, 16], dim: 1}` on 48 channels""",
         fix="""list sizes that add up to the dim's size (`[16, 32]`), or give one size for equal pieces."""),
    Rule("S032", "Dims are not a permutation", E,
         what="""reports a Permute whose `dims` do not name each dim of its input exactly once.""",
         why="""torch.permute raises "number of dims don't match" or "repeated dim".""",
         example="""`{type: Permute, dims: [0, 2, 2, 1]}` on a 4-D tensor""",
         fix="""list every dim once: `dims: [0, 2, 3, 1]` for channels-last."""),
    Rule("S033", "Inputs do not broadcast", E,
         what="""reports a Mul whose inputs do not broadcast against each other (aligned at the last
dim, each pair of sizes must be equal or one of them 1), naming both producers.""",
         why="""PyTorch raises "The size of tensor a must match the size of tensor b".""",
         example="""a squeeze-excitation gate of 1×64×1×1 multiplied with a 1×32×56×56 map""",
         fix="""give the gate's last conv as many channels as the map it scales."""),
    Rule("S034", "Reshape changes the number of elements", E,
         what="""reports a Reshape, View or Unflatten whose target shape does not hold exactly the
elements of its input.""",
         why="""PyTorch raises "shape '[...]' is invalid for input of size".""",
         example="""`{type: Unflatten, dim: 1, unflattened_size: [4, 5]}` on 1×24""",
         fix="""choose sizes whose product is the input's size, or write -1 for one of them."""),
    Rule("B001", "Budget exceeded", E,
         what="""reports a spec whose total parameter count (or MAC count, where convlint counts
MACs) exceeds the `budget` declared in the spec (`budget: {params: 1000000}`) or in the
configuration (`[tool.convlint.budget]`).""",
         why="""a pull request that quietly makes a model larger than its deployment target
allows fails in CI instead of on the device.""",
         example="""`budget: {params: 60000}` on LeNet-5, which has 61,706 parameters""",
         fix="""shrink the model (fewer channels, a smaller Linear layer) or raise the budget deliberately."""),
    Rule("N001", "Unused suppression comment", W,
         what="""reports a `# convlint: noqa: CODE` comment that silenced nothing: the code is not
reported on that layer, is not enabled, or is not a rule code at all.""",
         why="""stale suppressions hide future findings on the same line and mislead readers.""",
         example="""`- {name: c1, type: Conv2d, out_channels: 8, kernel_size: 3}  # convlint: noqa: S001`""",
         fix="""delete the comment, or the codes in it that no longer apply."""),
    Rule("I001", "Operation not modelled", W,
         what="""reports a layer of type `Opaque`: the stand-in `convlint import` writes for an ONNX node
(or a module) that no layer type imports. It names the operation and the node.""",
         why="""convlint takes the stand-in's output shape as the imported model states it and checks
nothing inside it: sizes that fail there, parameters it holds and its receptive field are unknown.""",
         example="""`{name: gridsample_12, type: Opaque, op: GridSample, node: /GridSample, shape: [1, 3, 32, 32]}`""",
         fix="""replace the stand-in by the layers it computes, or install a plugin whose layer type imports
the op (`onnx_ops` and `from_onnx`, see the plugin guide)."""),
    Rule("X001", "Plugin failed", E,
         what="""reports a layer plugin that raised an exception, returned something that is not
a valid result, or registered a layer type that another plugin already owns. It names the plugin
and the layer.""",
         why="""the layer could not be checked; this is a bug in the plugin, not in the spec.""",
         example="""a third-party plugin whose shape function raises ZeroDivisionError""",
         fix="""report it to the plugin's authors, or disable the plugin."""),
    Rule("X002", "Internal error", E,
         what="""reports an unexpected failure inside convlint itself while checking a file, with the
file and the exception; the other files are still checked.""",
         why="""the file could not be fully checked. This is always a bug in convlint.""",
         example="""none known; every such report is a bug to fix.""",
         fix="""report it with the spec file that triggers it."""),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def rule_doc(rule: Rule) -> str:
    """The full documentation of one rule: ``CODE: title (severity)`` then its sections."""
    return f"{rule.code}: {rule.title} ({rule.severity.value})\n{rule.doc}\n"
