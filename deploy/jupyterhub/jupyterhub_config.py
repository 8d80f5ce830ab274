"""JupyterHub for a class on one machine, as tests/tools/test_jupyterhub.py runs it.

    cd <a folder for the hub's state> && \
      <checkout>/.venv/bin/jupyterhub -f <checkout>/deploy/jupyterhub/jupyterhub_config.py

The hub, the proxy and every student's server come from the course's own environment
(`make setup` installs JupyterHub, nbgitpuller and, in node_modules/, configurable-http-proxy),
so the students get exactly the pinned packages the notebooks were executed with, and
JupyterLab's settings that save widget state with the notebook. Students arrive through an
nbgitpuller link to the student edition (README, "Serving the course to a class").

The authenticator and spawner are JupyterHub's own test classes: any listed student logs in
with any password, and every student's server runs as the hub's own system user, each in its
own home folder. That is fine for a trial on 127.0.0.1; for a real class replace these two
lines with your institution's authenticator (e.g. oauthenticator) and a spawner that
isolates students at the system level (systemdspawner, dockerspawner, or Zero to JupyterHub:
deploy/jupyterhub/z2jh-values.yaml).

Settings read from the environment (all optional):
  NNSCRATCH_HUB_STUDENTS  comma-separated user names allowed to log in (default: anyone)
  NNSCRATCH_HUB_HOMES     folder holding one home per student (default: ./homes)
"""

import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

CHECKOUT = Path(__file__).resolve().parents[2]

# Only this machine can reach the hub until you put it behind TLS (JupyterHub's docs:
# "Using a reverse proxy"); pass --ip to change it.
c.JupyterHub.ip = "127.0.0.1"

c.JupyterHub.authenticator_class = "dummy"
students = [s.strip() for s in os.environ.get("NNSCRATCH_HUB_STUDENTS", "").split(",")]
if any(students):
    c.Authenticator.allowed_users = {s for s in students if s}

c.JupyterHub.spawner_class = "simple"
homes = Path(os.environ.get("NNSCRATCH_HUB_HOMES", "homes")).resolve()
c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")

# Each student's server is the single-user server of the Python running the hub (the course's
# environment), not whatever `jupyterhub-singleuser` comes first on a PATH.
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
# Jupyter refuses to run as root unless told; containers and CI often are root.
if os.getuid() == 0:
    c.Spawner.args = ["--ServerApp.allow_root=True"]
# A loaded machine starting several JupyterLabs at once needs more than the default 60 s.
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300

# configurable-http-proxy as `make setup` installed it (npm ci into node_modules/), else the
# one on PATH.
local_proxy = CHECKOUT / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [
    str(local_proxy)
    if local_proxy.exists()
    else shutil.which("configurable-http-proxy") or "configurable-http-proxy"
]
