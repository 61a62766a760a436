"""The command line in a hostile environment (#24 point 8): stdout on a full device or a closed
pipe, an ASCII-only terminal asked for Japanese, outputs that are symlinks, FIFOs and devices,
inputs that are FIFOs, a full disk, bad --device and --time-budget. Every failure is exit status 2
and one line on stderr, never a traceback, never a hang.

One table. Cases where the process itself matters (its real stdout and Python's flush at exit, a
closed pipe, a file-size limit) run as real subprocesses (``python -m explorer``, two at a time);
the others call ``main()`` in this process, in a thread with a hang guard: the same code without
the seconds each new process spends importing torch.

Full devices are private: made with ``os.mknod`` in the test's own folder (only as root), never
the system's /dev/full. A file-size limit (SIGXFSZ ignored) stands in for a full disk.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import torch
from PIL import Image

from explorer.cli.main import main
from explorer.files import NotRegularFileError, OutputError, check_output, read_file, write_output
from tests.helpers.cli import explorer_command
from tests.helpers.data import colour_zip

ROOT = Path(__file__).resolve().parents[2]
ROOTED = os.geteuid() == 0
HANG_GUARD_S = 300  # a case that takes this long hangs (every case here ends in seconds)
INPUT_FIFOS = ("in.png", "in.safetensors")
NOTE = "note: the output is in English: this terminal's encoding (ascii) cannot show --lang ja"


@dataclass
class Case:
    args: list[str]
    rc: int
    says: str = ""  # a piece of the one stderr line ("" for success: stderr is empty, or NOTE)
    process: bool = False  # a real subprocess, or main() here
    stdout: str = "pipe"  # "pipe", "full" (a private full device), "closed" (a pipe closed at once), "ascii"
    fsize: int = 0
    needs: str = ""  # "root", "not root", "no cuda"
    check: Callable | None = None  # (folder, fifo bytes) -> None: what must be left on disk


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    fifo_data: bytes = b""


def safetensors_header(data: bytes) -> dict:
    """The file's JSON header, read by hand from the format (8-byte length, then JSON)."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length])


def make_inputs(folder: Path) -> dict[str, Path]:
    from explorer.models.densenet import DenseNet, DenseNetConfig
    from explorer.training.weights import save_model

    config = DenseNetConfig(growth_rate=2, block_config=(1, 1, 1), num_init_features=4, stem="cifar",
                            input_size=32, num_classes=2)
    weights = folder / "w.safetensors"
    weights.write_bytes(save_model(DenseNet(config).state_dict(), config, ["a", "b"]))
    colours = colour_zip(folder / "colours.zip")
    for name in (*INPUT_FIFOS, "out.safetensors"):
        os.mkfifo(folder / name)
    (folder / "target.safetensors").write_bytes(b"old")
    (folder / "link.safetensors").symlink_to("target.safetensors")
    (folder / "target.png").write_bytes(b"old")
    (folder / "link.png").symlink_to("target.png")
    (folder / "kept.safetensors").write_bytes(b"old")
    (folder / "readonly").mkdir(mode=0o555)
    if ROOTED:
        for name in ("full", "full.safetensors", "full.png"):
            os.mknod(folder / name, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a full device of our own
    return {"weights": weights, "zip": colours}


def _left_alone(*names):
    def check(folder, _fifo_data):
        assert not list(folder.glob(".explorer-*")), "a temporary file was left behind"
        for name in names:
            assert (folder / name).read_bytes() == b"old"
    return check


def _link_kept(folder, _fifo_data):
    assert (folder / "link.safetensors").is_symlink()
    header = safetensors_header((folder / "target.safetensors").read_bytes())
    assert header["__metadata__"]["explorer"] and "classifier.weight" in header


def _fifo_written(folder, fifo_data):
    assert stat.S_ISFIFO(os.lstat(folder / "out.safetensors").st_mode)  # not replaced by a file
    assert "classifier.weight" in safetensors_header(fifo_data)


def _device_kept(folder, _fifo_data):
    assert stat.S_ISCHR(os.lstat(folder / "full.safetensors").st_mode)


def _png_link_kept(folder, _fifo_data):
    assert (folder / "link.png").is_symlink()
    assert Image.open(folder / "target.png").size == (451, 300)  # the Chelsea sample's size


def _png_device_kept(folder, _fifo_data):
    assert stat.S_ISCHR(os.lstat(folder / "full.png").st_mode)


def cases(folder: Path, inputs: dict[str, Path]) -> dict[str, Case]:
    train = ["train", "--dataset", str(inputs["zip"]), "--depth", "10", "--growth-rate", "2", "--epochs", "1"]
    no_space = "cannot write the output: No space left on device"
    cam = ["cam", "chelsea", "--model", "efficientnet_lite0", "--format", "json", "--out"]
    return {
        # stdout on a full device: the real process (its flush at exit too), then every printing command
        "stdout_full_presets": Case(["presets"], 2, no_space, process=True, stdout="full", needs="root"),
        **{f"stdout_full_{command[0]}": Case(command, 2, no_space, stdout="full", needs="root")
           for command in (["profile", "densenet121"], ["compare", "densenet121"], ["module"], ["exercises"],
                           ["reuse", "--weights", str(inputs["weights"])])},
        "stdout_closed_pipe": Case(["presets"], 0, process=True, stdout="closed"),  # `| head`: quiet, as Unix tools
        "ascii_terminal_japanese": Case(["presets", "--lang", "ja"], 0, stdout="ascii"),
        "ascii_terminal_japanese_error": Case(["profile", "nope", "--lang", "ja"], 2, "unknown preset 'nope'",
                                              stdout="ascii"),
        # a full disk mid-write: the old file stays whole, no temporary file is left
        "train_out_disk_full": Case(train + ["--quiet", "--out", str(folder / "kept.safetensors")], 2,
                                    "cannot write", process=True, fsize=4000, check=_left_alone("kept.safetensors")),
        # checked before training: no --quiet, so one line on stderr means no progress bar was drawn
        "train_out_name_too_long": Case(train + ["--out", str(folder / ("x" * 300 + ".safetensors"))], 2,
                                        "File name too long"),
        "train_out_read_only_folder": Case(train + ["--out", str(folder / "readonly" / "m.safetensors")], 2,
                                           "Permission denied", needs="not root"),
        "train_out_symlink": Case(train + ["--quiet", "--out", str(folder / "link.safetensors")], 0,
                                  check=_link_kept),
        "train_out_fifo": Case(train + ["--quiet", "--out", str(folder / "out.safetensors")], 0, check=_fifo_written),
        "train_out_full_device": Case(train + ["--quiet", "--out", str(folder / "full.safetensors")], 2,
                                      "No space left on device", needs="root", check=_device_kept),
        "train_budget_nan": Case(train + ["--time-budget", "nan", "--out", "m.safetensors"], 2,
                                 "--time-budget: must be a finite number, got nan"),
        "train_budget_inf": Case(train + ["--time-budget", "inf", "--out", "m.safetensors"], 2,
                                 "--time-budget: must be a finite number, got inf"),
        "train_device_quantum": Case(train + ["--device", "quantum", "--out", "m.safetensors"], 2,
                                     "--device quantum: unknown device; use cpu, cuda or mps"),
        "train_device_cuda_99": Case(train + ["--device", "cuda:99", "--out", "m.safetensors"], 2,
                                     "--device cuda:99: this machine has no such device"),
        "train_device_cuda_without_gpu": Case(train + ["--device", "cuda", "--out", "m.safetensors"], 2,
                                              "--device cuda: this machine has no such device", needs="no cuda"),
        # a FIFO with no writer: a plain open() waits forever (see _main_with_hang_guard)
        "classify_fifo": Case(["classify", str(folder / "in.png"), "--model", "efficientnet_lite0"], 2,
                              "in.png: not a regular file (a folder, FIFO or device)"),
        "reuse_fifo": Case(["reuse", "--weights", str(folder / "in.safetensors")], 2, "not a regular file"),
        # cam wrote through a temporary file and a rename, whatever --out was: a link or a device became a file
        "cam_out_symlink": Case(cam + [str(folder / "link.png")], 0, check=_png_link_kept),
        "cam_out_full_device": Case(cam + [str(folder / "full.png")], 2, "No space left on device", needs="root",
                                    check=_png_device_kept),
    }


def applies(case: Case) -> str | None:
    """Why a case cannot run here, or None."""
    if case.needs == "root" and not ROOTED:
        return "a private full device needs root (os.mknod)"
    if case.needs == "not root" and ROOTED:
        return "root writes into a read-only folder (the name-too-long case checks before training)"
    if case.needs == "no cuda" and torch.cuda.is_available():
        return "this machine has a GPU"
    return None


def _fifo_reader(folder: Path, case: Case):
    """The output FIFO's reader, as `cat fifo` would be: (thread, the bytes it read)."""
    data = []
    if "out.safetensors" not in " ".join(case.args):
        return None, data

    def read():
        with open(folder / "out.safetensors", "rb") as fifo:
            data.append(fifo.read())
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, data


def run_process(folder: Path, case: Case) -> Result:
    try:
        return _run_process(folder, case)
    except subprocess.TimeoutExpired:  # one case fails, not the table
        return Result(-1, "", f"hung: still running after {HANG_GUARD_S} s")


def _run_process(folder: Path, case: Case) -> Result:
    command = explorer_command(*case.args, RLIMIT_FSIZE=case.fsize)  # `python -m explorer`, the limit if any
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    reader, fifo_data = _fifo_reader(folder, case)
    if case.stdout == "closed":
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=folder, env=env) as proc:
            proc.stdout.close()  # the reader has gone before the first line
            stderr = proc.stderr.read()
            done = subprocess.CompletedProcess(command, proc.wait(HANG_GUARD_S), b"", stderr)
    elif case.stdout == "full":
        with open(folder / "full", "wb") as full:
            done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, cwd=folder, env=env,
                                  timeout=HANG_GUARD_S)
            done.stdout = b""
    else:
        done = subprocess.run(command, capture_output=True, cwd=folder, env=env, timeout=HANG_GUARD_S)
    if reader is not None:
        reader.join(10)
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode("utf-8", "replace"),
                  fifo_data[0] if fifo_data else b"")


def run_here(folder: Path, case: Case, capsys, monkeypatch) -> Result:
    monkeypatch.chdir(folder)
    reader, fifo_data = _fifo_reader(folder, case)
    if case.stdout == "full":
        full = open(folder / "full", "w")
        monkeypatch.setattr(sys, "stdout", full)
    if case.stdout == "ascii":  # an ASCII-only terminal
        out, err = (io.TextIOWrapper(io.BytesIO(), encoding="ascii") for _stream in range(2))
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
    returncode = _main_with_hang_guard(folder, case.args)
    if case.stdout == "full":
        try:
            full.close()  # what is still buffered cannot be written either
        except OSError:
            pass
    if reader is not None:
        reader.join(10)
    if case.stdout == "ascii":
        out.flush(), err.flush()
        return Result(returncode, out.buffer.getvalue().decode("ascii"), err.buffer.getvalue().decode("ascii"))
    captured = capsys.readouterr()
    return Result(returncode, captured.out, captured.err, fifo_data[0] if fifo_data else b"")


def _main_with_hang_guard(folder: Path, args: list[str]) -> int:
    """``main(args)`` in a thread: one that blocks on an input FIFO is released (a writer opens and
    closes it: end of file) and the case fails instead of the whole run hanging."""
    outcome = []

    def run():
        try:
            outcome.append(main(args))
        except BaseException as error:  # the traceback a user would see
            outcome.append(error)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    if thread.is_alive():
        for name in INPUT_FIFOS:
            os.close(os.open(folder / name, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail(f"hung: still running after {HANG_GUARD_S} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-cli")
    return folder, make_inputs(folder)


@pytest.fixture(scope="module")
def processes(folder):
    """The subprocess cases, two at a time."""
    where, inputs = folder
    table = {name: case for name, case in cases(where, inputs).items() if case.process and applies(case) is None}
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(table, pool.map(lambda case: run_process(where, case), table.values())))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(cases(Path("folder"), {"weights": Path("w"), "zip": Path("z")})))
def test_cli_case(folder, name, request, capsys, monkeypatch):
    where, inputs = folder
    case = cases(where, inputs)[name]
    if applies(case) is not None:
        pytest.skip(applies(case))
    result = (request.getfixturevalue("processes")[name] if case.process
              else run_here(where, case, capsys, monkeypatch))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == case.rc, result.stderr
    lines = result.stderr.splitlines()
    if case.says:
        assert len(lines) == 1 and lines[0].startswith("error: ") and case.says in lines[0], result.stderr
    elif case.stdout == "ascii":  # English instead, and a note saying why
        assert lines == [NOTE]
        assert "densenet121          ImageNet, k=32, blocks 6-12-24-16" in result.stdout
    else:
        assert result.stderr == ""
    if case.check is not None:
        case.check(where, result.fifo_data)


def test_dev_stdout_is_written_through_the_open_stream(tmp_path, capfd):
    """``/dev/stdout``: written through the open descriptor after what was printed, never reopened
    (reopening would truncate a file that stdout is) nor renamed over."""
    print("text", flush=True)
    write_output("/dev/stdout", b"bytes")
    assert capfd.readouterr().out == "text\nbytes"


# --- the helpers in-process -------------------------------------------------------------------

def test_read_file_refuses_what_is_not_a_regular_file_at_once(tmp_path):
    os.mkfifo(tmp_path / "fifo")  # no writer: a plain open() would wait forever
    for path in (tmp_path / "fifo", tmp_path):
        with pytest.raises(NotRegularFileError, match="not a regular file"):
            read_file(path, 10)
    (tmp_path / "f").write_bytes(b"0123456789abc")
    assert read_file(tmp_path / "f", 10) == b"0123456789a"  # the cap and one byte: the caller sees "too big"
    with pytest.raises(FileNotFoundError):
        read_file(tmp_path / "missing", 10)


def test_write_output_replaces_a_symlinks_target_keeping_link_and_mode(tmp_path):
    target, link = tmp_path / "target.png", tmp_path / "link.png"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link.symlink_to(target.name)  # relative, as `ln -s` makes them
    write_output(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "made.png")
    write_output(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "made.png").read_bytes() == b"made"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.png", "link.png", "made.png", "target.png"]


def test_outputs_that_cannot_be_written_are_one_line(tmp_path):
    with pytest.raises(OutputError, match="cannot write .*: Is a directory"):
        check_output(tmp_path)
    with pytest.raises(OutputError, match="cannot write .*: No such file or directory"):
        check_output(tmp_path / "missing" / "out.png")
    check_output(tmp_path / "new.png")
    assert list(tmp_path.iterdir()) == []  # the check leaves nothing behind
    if ROOTED:
        full = tmp_path / "full"
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        with pytest.raises(OutputError, match="No space left on device"):
            write_output(full, b"x" * 100_000)
        assert stat.S_ISCHR(os.lstat(full).st_mode)
