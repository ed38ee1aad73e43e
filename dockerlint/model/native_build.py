"""Whether an image is a build environment for native code (a CUDA/C++ extension, a
wheel built from C sources): then the CUDA development image, the torch it builds against
and the -dev headers are tools it needs, not bloat.

The final image compiles when its stages run a compiler or a package build
(``nvcc``, ``cmake``, ``python setup.py bdist_wheel``, ``pip wheel``, pip's
``--no-binary``), pip-install with a CUDA build asked for (``TORCH_CUDA_ARCH_LIST``,
``FORCE_CUDA``, ``CMAKE_ARGS="-DGGML_CUDA=on"``), pip-install build tooling (cmake, ninja,
pybind11) next to native sources, or copy in sources only a compiler reads
(``CMakeLists.txt``, ``csrc/``, ``*.cu``). Knowledge: ``[native_build]`` in ml.toml.
"""

from __future__ import annotations

import os
import posixpath
from functools import cache

from dockerlint.knowledge import load
from dockerlint.model.image import Image, context_source
from dockerlint.model.queries import final_chain
from dockerlint.model.submodules import git_clones


@cache
def _settings() -> dict:
    return load("ml")["native_build"]


def compiles_native(image: Image) -> bool:
    """The final image compiles something, or is set up to compile the repository's own
    native sources."""
    settings = _settings()
    cloned: set[str] = set()  # folders `git clone` filled in earlier RUNs
    for stage in final_chain(image):
        for step in stage.steps:
            if _cuda_build_environment(step.env, settings):
                return True
            if any(_compiles(command.argv, settings) for command in step.commands):
                return True
            if any(_script_compiles(image, stage, step, command.argv, settings) for command in step.commands):
                return True
            cloned |= {folder for _, folder in git_clones(step)}
            for install in step.installs:
                if install.has("--no-binary", "--no-build-isolation"):
                    return True
                if _cuda_build_environment(dict(install.command.command.assignments), settings):
                    return True  # `CMAKE_ARGS=-DGGML_CUDA=on pip install llama-cpp-python`
                if (
                    install.family == "pip"
                    and install.action == "install"
                    and _builds_cloned_or_cuda_source(step, install, cloned, settings)
                ):
                    return True
    return copies_native_sources(image)


def _script_compiles(image: Image, stage, step, argv: tuple[str, ...], settings: dict) -> bool:
    """A RUN of a shell script from the build context (`bash install.sh`) whose commands
    compile or ask a pip install for a CUDA build (`CMAKE_ARGS="-DLLAMA_CUDA=on" pip
    install -r requirements_gpu.txt`)."""
    from dockerlint.model.ml import shell_script
    from dockerlint.parse.shell import parse_script

    script = shell_script(argv) if argv else None
    if script is None:
        return False
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", script))
    source = context_source(image, stage, image_path, step.index)
    if source is None or not os.path.isfile(source):
        return False
    loaded = image.workspace.text(source, quiet=True)
    if loaded is None:
        return False
    for command in parse_script(loaded[0].text).commands:
        if _compiles(command.argv, settings) or _cuda_build_environment(dict(command.assignments), settings):
            return True
        if command.name == "export" and _cuda_build_environment(_exported(command.argv[1:]), settings):
            return True
    return False


def _exported(words) -> dict[str, str]:
    """``export FORCE_CUDA=1 CMAKE_ARGS=...`` as variables."""
    return dict(word.split("=", 1) for word in words if "=" in word)


def _builds_cloned_or_cuda_source(step, install, cloned: set[str], settings: dict) -> bool:
    """A `pip install` of a CUDA-extension source distribution (flash-attn), or of a project
    the build cloned (`git clone .../grasp_det_seg_cnn && pip install -e grasp_det_seg_cnn`),
    whose setup may compile CUDA extensions the linter cannot read."""
    names = set(settings["cuda_source_packages"])
    for argument in (*install.packages, *install.editables):
        value = argument.value
        name = value.split("[", 1)[0].split("=", 1)[0].split("<", 1)[0].split(">", 1)[0].strip().lower()
        if name.replace("_", "-") in names:
            return True
        if cloned and (value.startswith(("/", ".")) or "/" not in value and not any(c in value for c in "=<>")):
            path = posixpath.normpath(posixpath.join(step.workdir or "/", value.split("[", 1)[0]))
            if any(path == folder or path.startswith(folder + "/") for folder in cloned):
                return True
    return False


def _cuda_build_environment(env: dict[str, str], settings: dict) -> bool:
    """Variables set only to make a package build compile CUDA code (``FORCE_CUDA=1``,
    ``CMAKE_ARGS="-DGGML_CUDA=on"``)."""
    if any((env.get(name) or "0").lower() not in ("0", "false", "no", "off") for name in settings["build_variables"]):
        return True
    return any(
        switch in word.upper()
        for name in settings["cmake_variables"]
        for word in (env.get(name) or "").split()
        if word.startswith("-D") and word.upper().endswith(("=ON", "=1", "=TRUE", "=YES"))
        for switch in settings["cmake_cuda_switches"]
    )


def installs_native_program(image: Image) -> bool:
    """Whether the final image builds a program from source and installs it (`make install`,
    `cmake --install`, `ninja install`): the program links the libraries its `-dev`
    packages brought, so removing those breaks it."""
    for stage in final_chain(image):
        for step in stage.runs():
            for command in step.commands:
                words = command.argv[1:]
                if command.name in ("make", "ninja") and "install" in words:
                    return True
                if command.name == "cmake" and "--install" in words:
                    return True
    return False


def copies_native_sources(image: Image) -> bool:
    """The final image holds sources only a compiler reads: it is a build environment
    for them (a wheel builder), whose compilers and headers are its purpose."""
    settings = _settings()
    return any(
        _native_source(image, source.value, settings)
        for stage in final_chain(image)
        for copy in stage.copies
        if copy.from_stage is None and copy.from_image is None
        for source in copy.sources
    )


def _compiles(argv: tuple[str, ...], settings: dict) -> bool:
    if not argv:
        return False
    program = posixpath.basename(argv[0])
    if program in settings["commands"]:
        return True
    words = list(argv[1:])
    if program.startswith("python"):
        while words and words[0].startswith("-") and words[0] != "-m":
            words = words[1:]
        if words[:1] == ["setup.py"] or (words and words[0].endswith("/setup.py")):
            return any(word in settings["setup_commands"] for word in words[1:])
        if words[:2] == ["-m", "build"]:
            return True
        if words[:2] == ["-m", "pip"]:
            words = words[2:]
            program = "pip"
    return program.startswith("pip") and words[:1] == ["wheel"]


def _native_source(image: Image, source: str, settings: dict) -> bool:
    """A COPY source named like native code, or a named folder holding some."""
    if "://" in source or source.strip("./") == "":
        return False
    name = posixpath.basename(source.rstrip("/"))
    if name in settings["source_names"] and name != "setup.py":
        return True
    if name.endswith(tuple(settings["source_suffixes"])):
        return True
    folder = image.context_path(source.lstrip("/"))
    try:
        if not os.path.isdir(folder):
            return False
        return any(entry.name == "CMakeLists.txt" or entry.name.endswith((".cu", ".cuh")) for entry in folder.iterdir())
    except OSError:
        return False
