# JupyterHub for one class on one server (deploy/README.md): the course installed once, in
# /opt/nn-course with its venv; each student's own copies of the exercises in ~/exercises and of
# the chapters in ~/chapters (made when their server starts, never overwritten by an update).
#
#   jupyterhub -f deploy/jupyterhub_config.py
#
# Settings read from the environment (defaults for a real server):
#   NN_COURSE_DIR      the course's clone                      (/opt/nn-course)
#   NN_COURSE_PYTHON   the course venv's python                ($NN_COURSE_DIR/.venv/bin/python)
#   NN_HUB_ADMINS      the instructors' user names, comma-separated
import os
import sys

c = get_config()  # noqa: F821  (JupyterHub's config loader provides it)

course = os.environ.get("NN_COURSE_DIR", "/opt/nn-course")
python = os.environ.get("NN_COURSE_PYTHON", os.path.join(course, ".venv", "bin", "python"))
here = os.path.dirname(os.path.abspath(__file__))

# One system user per student (LocalProcessSpawner, the default): homes are private (mode 700).
# Create the users with `adduser`, or let the authenticator do it (TLJH does; see deploy/README.md).
c.Spawner.cmd = [os.path.join(here, "nn-course-singleuser")]
c.Spawner.environment = {
    "NN_COURSE_DIR": course,
    "NN_COURSE_PYTHON": python,
    "PATH": os.path.dirname(python) + ":/usr/local/bin:/usr/bin:/bin",
    # numpy on one BLAS thread per student: many small matrices, many students, few cores
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}
c.Spawner.default_url = "/lab/tree/exercises"
c.Spawner.mem_limit = "1G"          # honoured by spawners that enforce it (systemdspawner, TLJH)
c.Spawner.cpu_limit = 1.0

# The proxy from deploy/node_modules (`make hub-proxy`: npm install in deploy/).
proxy = os.path.join(here, "node_modules", ".bin", "configurable-http-proxy")
if os.path.exists(proxy):
    c.ConfigurableHTTPProxy.command = [proxy]

admins = {u for u in os.environ.get("NN_HUB_ADMINS", "").split(",") if u}
if admins:
    c.Authenticator.admin_users = admins
c.JupyterHub.cookie_secret_file = os.environ.get("NN_HUB_COOKIE_SECRET", "/srv/jupyterhub/jupyterhub_cookie_secret")
c.JupyterHub.db_url = os.environ.get("NN_HUB_DB", "sqlite:////srv/jupyterhub/jupyterhub.sqlite")
