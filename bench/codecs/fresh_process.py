"""A fresh Python process that decodes bitstreams for :class:`bench.codecs.reference.FreshProcessDecoder`.

Started with ``python -m bench.codecs.fresh_process THREADS PARENT_PID``, it shares nothing with the
process that encoded (not even the interpreter: no fork), runs torch on ``THREADS`` threads on
the CPU, and ends with its parent. Requests and answers are length-prefixed pickles on its
standard input and output: ``(codec, bitstream)`` in, ``("ok", latent, image)`` or
``("error", message)`` out.
"""
from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from typing import IO, Any

_LENGTH = struct.Struct(">Q")


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message, or raise ``EOFError`` when the other side is gone."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the fresh decoding process ended")
    (length,) = _LENGTH.unpack(header)
    return pickle.loads(stream.read(length))


class FreshProcess:
    """The parent's handle on one fresh process (started on creation)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        # The parent's import path, so that any codec class it can import unpickles there too.
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.codecs.fresh_process", str(threads), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment,
        )

    def decode(self, codec: Any, bitstream: bytes) -> tuple[Any, Any]:
        """(latent, image) of ``bitstream`` decoded by ``codec`` in the fresh process."""
        assert self.process.stdin is not None and self.process.stdout is not None
        send(self.process.stdin, (codec, bitstream))
        answer = receive(self.process.stdout)
        if answer[0] != "ok":
            raise RuntimeError(f"in the fresh process: {answer[1]}")
        return answer[1], answer[2]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def serve(threads: int, parent_pid: int) -> None:
    """The child's loop: decode each request until the parent closes the pipe."""
    from bench.errors import one_line
    from bench.processes import die_with_parent, limit_threads

    die_with_parent(parent_pid)
    limit_threads(threads)
    # Answers go to the original standard output; anything a library prints goes to standard error.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    import numpy as np

    while True:
        try:
            request = receive(requests)
        except EOFError:
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a codec class this process cannot import
            send(answers, ("error", f"cannot read the request ({one_line(exc)})"))
            continue
        try:
            codec, bitstream = request
            codec.use_device("cpu")
            send(answers, ("ok", codec.decoded_latent(bitstream), np.asarray(codec.decode(bitstream))))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which records it
            send(answers, ("error", one_line(exc)))


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
