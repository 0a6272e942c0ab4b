"""A plugin layer's `forward` runs under the same isolation as its other calls: a crash, an exit or a
hang becomes a clear error that names the plugin and the layer, never a traceback or a hang."""
from __future__ import annotations

import time

import pytest

import convlint.execute.executor as executor
from convlint.cli.main import main
from tests.local_plugins import enter_project, write_plugin

SPEC = "inputs: {x: [1, 2, 4, 4]}\nlayers:\n  - {name: conv, type: Conv2d, out_channels: 3, kernel_size: 1}\n" \
       "  - {name: odd, type: Broken}\n"
FAULTS = {
    "raises": ("raise ZeroDivisionError('division by zero in forward')", "ZeroDivisionError: division by zero"),
    "exits": ("sys.exit(0)", "SystemExit(0)"),
    "hangs": ("while True:\n    pass", "ran for more than"),
    "interrupts": ("raise KeyboardInterrupt", "KeyboardInterrupt"),
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(executor, "PLUGIN_TIME_LIMIT", 0.05)  # the hang is stopped after 0.5 s, not 10 s
    return enter_project(tmp_path, monkeypatch, SPEC)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_faulty_forward_is_an_error_naming_plugin_and_layer(project, capsys, fault):
    body, said = FAULTS[fault]
    write_plugin(project / f"broken_{fault}.py", "Broken", f'print("noise from the plugin")\n{body}',
                 f"Shape in = shape out; its forward {fault}.")
    started = time.monotonic()
    code = main(["run", "-p", f"broken_{fault}.py", "spec.yaml", "-o", "out.npz"])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 2 and not (project / "out.npz").exists()
    assert f"layer `odd` (Broken, line 4): plugin `broken_{fault}.py` failed in forward" in err, err
    assert said in err and "Traceback" not in err + out
    assert "noise from the plugin" not in out  # a plugin's printing goes to stderr, never into the output
    assert elapsed < 30

