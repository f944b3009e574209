################################################################################
#
# python-wsmeasure
#
################################################################################

# The sources are this repository (setup.cfg, pyproject.toml, app/, drivers/, web/): the
# version is the package's own (app/__init__.py).
PYTHON_WSMEASURE_VERSION = $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' $(BR2_EXTERNAL_WSMEASURE_PATH)/../app/__init__.py)
PYTHON_WSMEASURE_SITE = $(BR2_EXTERNAL_WSMEASURE_PATH)/..
PYTHON_WSMEASURE_SITE_METHOD = local
# only what the wheel is built from: no .venv, tests, build output or image trees
PYTHON_WSMEASURE_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude .venv --exclude tests --exclude bench --exclude docs \
	--exclude buildroot-config --exclude image --exclude rootfs --exclude systemd \
	--exclude build --exclude '*.egg-info' --exclude __pycache__
PYTHON_WSMEASURE_SETUP_TYPE = setuptools
PYTHON_WSMEASURE_LICENSE = GPL-3.0+

$(eval $(python-package))
