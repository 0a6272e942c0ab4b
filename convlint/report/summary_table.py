"""The text table of ``convlint summary``, printed from the summary object of
:func:`convlint.report.summary.build_summary`.  Formatters only print; they decide nothing."""
from __future__ import annotations

from fractions import Fraction

from convlint.analysis.infer import format_shape
from convlint.escaping import printable


def _thousands(value) -> str:
    return "—" if value is None else f"{value:,}"


def _si(value, unit: str = "") -> str:
    """``4.09 G`` style: three significant digits with a decimal (SI) prefix."""
    if value is None:
        return "—"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:g} {unit}".rstrip()


def _axes(values, as_fraction: bool = False) -> str:
    """``7×7`` for per-axis numbers (``1/2`` with ``as_fraction``, else ``93.5``), ``—`` when unknown."""
    if values is None:
        return "—"
    shown = (str(value) if type(value) is int else str(Fraction(value).limit_denominator(1000)) if as_fraction
             else f"{value:g}" for value in values)
    return "×".join(shown)


def _mb(value) -> str:
    return "—" if value is None else f"{value / 1e6:.2f}"


def summary_table(summary: dict) -> str:
    """A torchinfo-style table of one spec: layer (type), output shape, params, MACs (or FLOPs),
    output memory, receptive field, effective stride and first-output centre; then the totals."""
    work = "flops" if "total_flops" in summary else "macs"
    rows = [(printable(f"{layer['name']} ({layer['type']})", 200),
             "?" if layer["output_shape"] is None else format_shape(layer["output_shape"]),
             "—" if layer["params"] is None else _thousands(layer["params"]),
             _si(layer[work]), _mb(layer["activation_bytes"]), _axes(layer["receptive_field"]),
             _axes(layer["effective_stride"], as_fraction=True), _axes(layer["receptive_field_center"]))
            for layer in summary["layers"]]
    header = ("Layer (type)", "Output shape", "Params", work[:-1].upper() + "s", "Out MB", "RF", "Stride", "Centre")
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) if rows else len(header[i])
              for i in range(len(header))]
    rule = "=" * (sum(widths) + 2 * (len(header) - 1))
    # names and shapes left-aligned, the numbers right-aligned, the per-axis fields left-aligned
    layout = "  ".join(f"{{:{'<' if i < 2 or i > 4 else '>'}{width}}}" for i, width in enumerate(widths))
    line = lambda row: layout.format(*row).rstrip() + "\n"
    text = f"{printable(summary['name'])}  ({printable(summary['path'])})\n{rule}\n{line(header)}{rule}\n"
    text += "".join(line(row) for row in rows)
    bound = "" if summary["complete"] else "at least "
    text += f"{rule}\n"
    if summary["sizes_at"]:
        at = ", ".join(f"{name} = {value}" for name, value in summary["sizes_at"].items())
        text += f"Shapes hold for every size; the numbers below are at {at}\n"
    text += f"Total params: {bound}{_thousands(summary['total_params'])}\n"
    if work == "flops":
        text += (f"Total FLOPs: {bound}{_thousands(summary['total_flops'])} "
                 f"({_si(summary['total_flops'])}; 2 × MACs)\n")
    else:
        text += f"Total MACs: {bound}{_thousands(summary['total_macs'])} ({_si(summary['total_macs'])})\n"
    if not summary["complete"]:
        missed = summary["not_counted"]
        text += (f"  Incomplete: {len(missed)} layer{'s' if len(missed) != 1 else ''} not counted "
                 f"({', '.join(missed[:5])}{', …' if len(missed) > 5 else ''})\n")
    text += ("  MACs: one multiply-add per kernel tap, bias not counted (fvcore's convention); ConvTranspose\n"
             "  counted over its input positions; norms, pools, activations and merges count 0.\n")
    text += (f"Input: {_mb(summary['input_bytes'])} MB, params: {_mb(summary['param_bytes'])} MB, "
             f"all layer outputs: {_mb(summary['total_activation_bytes'])} MB ({summary['dtype']}, 1 MB = 10⁶ bytes)\n"
             f"Estimated total for inference: {_mb(summary['inference_bytes'])} MB (nothing freed)\n"
             "  RF: receptive field in input pixels per axis; Stride: effective stride; Centre: centre of the\n"
             "  first output's receptive field in input pixel coordinates (padding counts as input).\n")
    errors = [d for d in summary["diagnostics"] if d["severity"] == "error"]
    if summary["diagnostics"]:
        text += f"{len(summary['diagnostics'])} finding(s), {len(errors)} error(s): run `convlint lint` for details\n"
    return text
