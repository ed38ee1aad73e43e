"""Git submodules the checkout has not fetched: what an image copies from one is unknown
here, not missing (CTX003) and not code that imports nothing (IMG002, DEP001, DEP002)."""

from __future__ import annotations

from tests.conftest import found, run_lint

GITMODULES = '[submodule "reasoning/tim-reasoning"]\n\tpath = reasoning/tim-reasoning\n\turl = https://github.com/acme/tim-reasoning.git\n'

DOCKERFILE = """
    FROM pytorch/pytorch:2.1.0-cuda11.8-cudnn8-runtime
    WORKDIR /app
    COPY reasoning/requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY reasoning/tim-reasoning tim-reasoning
    RUN pip install --no-cache-dir ./tim-reasoning
    COPY reasoning/main.py .
    CMD ["python", "main.py"]
"""


def files(fetched: bool) -> dict[str, str]:
    tree = {
        "Dockerfile": DOCKERFILE,
        ".gitmodules": GITMODULES,
        "reasoning/requirements.txt": "redis==5.2.1\nrich==13.9.4\n",
        "reasoning/main.py": "import redis\n\nfrom tim_reasoning import Reasoner\n\nReasoner(redis.Redis()).run()\n",
    }
    if fetched:
        tree["reasoning/tim-reasoning/setup.py"] = "from setuptools import setup\n\nsetup(name='tim-reasoning')\n"
        tree["reasoning/tim-reasoning/tim_reasoning/__init__.py"] = "class Reasoner:\n    pass\n"
    return tree


def test_a_copy_from_an_unfetched_submodule_is_said_at_info(repo):
    result = run_lint(repo(files(fetched=False)), select=["CTX003"])
    assert found(result) == [("CTX003", "Dockerfile", 5)]
    (finding,) = result.findings
    assert finding.severity.name == "INFO"
    assert (
        "git submodule `reasoning/tim-reasoning`" in finding.message
        and "git submodule update --init" in finding.message
    )
    # a folder that .gitmodules does not declare is missing, as before
    tree = files(fetched=False)
    tree[".gitmodules"] = GITMODULES.replace("reasoning/tim-reasoning", "vendor/other")
    result = run_lint(repo(tree), select=["CTX003"])
    assert [f.severity.name for f in result.findings] == ["ERROR"]
    # fetched: nothing to say
    assert found(run_lint(repo(files(fetched=True)), select=["CTX003"])) == []


def test_code_an_unfetched_submodule_brings_is_not_judged_absent(repo):
    """The base's torch and an unused-looking rich may be what the submodule's code imports."""
    assert found(run_lint(repo(files(fetched=False)), select=["IMG002", "DEP001", "DEP002"])) == []
    # with the submodule fetched, its code is read: nothing imports torch or rich
    result = run_lint(repo(files(fetched=True)), select=["IMG002", "DEP001", "DEP002"])
    assert sorted((f.code, f.severity.name) for f in result.findings) == [("DEP001", "WARNING"), ("IMG002", "WARNING")]


def test_a_package_only_the_unfetched_submodule_may_import_is_said_at_info(repo):
    """The submodule's code is copied beside main.py and imported from it, not installed: an
    unused-looking rich may be its import, so DEP001 hedges; fetched, rich is unused."""
    tree = files(fetched=False)
    tree["Dockerfile"] = DOCKERFILE.replace("    RUN pip install --no-cache-dir ./tim-reasoning\n", "").replace(
        "COPY reasoning/tim-reasoning tim-reasoning", "COPY reasoning/tim-reasoning/tim_reasoning tim_reasoning"
    )
    result = run_lint(repo(tree), select=["DEP001"])
    assert [(f.code, f.severity.name) for f in result.findings] == [("DEP001", "INFO")]
    [hedged] = result.findings
    assert "is installed in the image and may be unused: no code of the image" in hedged.message
    assert "that this checkout shows imports `rich`" in hedged.message  # not "nothing uses it": it cannot tell
    assert "git submodule `reasoning/tim-reasoning`" in hedged.message
    assert hedged.fix.startswith("Check whether that code imports `rich`; if not, remove")
    tree.update({k: v for k, v in files(fetched=True).items() if k.startswith("reasoning/tim-reasoning/")})
    result = run_lint(repo(tree), select=["DEP001"])
    assert [(f.code, f.severity.name) for f in result.findings] == [("DEP001", "WARNING")]


def test_a_repository_the_build_clones_holds_code_that_is_not_judged(repo):
    """`git clone` of a PyTorch project in the Dockerfile: the base's torch and the packages
    its requirements install may be what that code imports. A clone of a model repository
    of the Hub is weights (MDL001's), not code."""
    dockerfile = """
        FROM pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime
        WORKDIR /app
        RUN git clone https://github.com/acme/scale-balanced-grasp.git
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY serve.py .
        CMD ["python", "serve.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "flask==3.1.0\ntqdm==4.67.1\n",
        "serve.py": "import flask\n\napp = flask.Flask(__name__)\n",
    }
    result = run_lint(repo(files), select=["IMG002", "DEP001"])
    assert [(f.code, f.severity.name) for f in result.findings] == [("DEP001", "INFO")]
    assert "clones `https://github.com/acme/scale-balanced-grasp.git` at build time" in result.findings[0].message
    files["Dockerfile"] = dockerfile.replace(
        "https://github.com/acme/scale-balanced-grasp.git", "https://huggingface.co/acme/grasp-weights"
    )
    result = run_lint(repo(files), select=["IMG002", "DEP001"])
    assert sorted((f.code, f.severity.name) for f in result.findings) == [("DEP001", "WARNING"), ("IMG002", "WARNING")]
    files["Dockerfile"] = dockerfile.replace("git clone", "git clone --depth 1 --branch v2")
    result = run_lint(repo(files), select=["IMG002", "DEP001"])
    assert "clones `https://github.com/acme/scale-balanced-grasp.git` at build time" in result.findings[0].message


def test_a_pythonpath_folder_the_image_holds_no_code_in_is_code_it_does_not_show(repo):
    """`ENV PYTHONPATH=/app` in a worker that copies only itself to /worker: the `app`
    package it imports is mounted there at run time, so a package its requirements list may
    be that code's (DEP001 hedges, at info). With the package copied to /app, it is read."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /worker
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY worker.py .
        ENV PYTHONPATH=/app:.
        CMD ["rq", "worker", "pipeline"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "rq==2.0.0\npandas==2.2.3\n",
        "worker.py": "try:\n    from app.ml import train\nexcept ImportError:\n    train = None\n",
    }
    result = run_lint(repo(files), select=["DEP001"])
    assert [(f.code, f.severity.name) for f in result.findings] == [("DEP001", "INFO")]
    assert "PYTHONPATH names `/app`, which the image holds no code in" in result.findings[0].message
    files["Dockerfile"] = dockerfile.replace("COPY worker.py .", "COPY worker.py .\nCOPY app/ /app/app/")
    files["app/__init__.py"] = ""
    files["app/ml.py"] = "import json\n"
    result = run_lint(repo(files), select=["DEP001"])
    assert [(f.code, f.severity.name) for f in result.findings] == [("DEP001", "WARNING")]


def test_packages_hedged_for_one_cloned_plugin_set_are_one_finding(repo):
    """ComfyUI's custom nodes cloned at build time, and a requirements file of what they
    import: every unused entry hedges for that one reason, so it is said once, with the
    others as related lines. The image starting nothing is one reason too. A package the
    service's own code imports is not among them."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        RUN mkdir -p /comfyui/custom_nodes && cd /comfyui/custom_nodes && \\
            git clone --depth 1 https://github.com/acme/ComfyUI-Impact-Pack.git && \\
            git clone --depth 1 https://github.com/acme/ComfyUI-KJNodes.git
        COPY handler.py .
        CMD ["python", "handler.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "requests==2.32.3\nscikit-image==0.24.0\ndill==0.3.9\neinops==0.8.0\n",
        "handler.py": "import requests\n\nrequests.get('http://127.0.0.1:8188/prompt')\n",
    }
    result = run_lint(repo(files), select=["DEP001"])
    [finding] = result.findings
    assert (finding.severity.name, finding.span.line) == ("INFO", 2)
    assert finding.message.startswith(
        "`scikit-image`, `dill` and `einops` are installed in the image and may be unused"
    )
    assert "clones `https://github.com/acme/ComfyUI-Impact-Pack.git` at build time" in finding.message
    assert [related.span.line for related in finding.related] == [3, 4]
    assert finding.fix.startswith("Check whether that code imports them")
    result = run_lint(
        repo({**files, "Dockerfile": dockerfile.replace('CMD ["python", "handler.py"]\n', "")}), select=["DEP001"]
    )
    [finding] = result.findings
    assert "but the image starts nothing, so an image built FROM it may use them" in finding.message
    assert [related.span.line for related in finding.related] == [3, 4]
