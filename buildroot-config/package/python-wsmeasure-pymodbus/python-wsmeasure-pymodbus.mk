################################################################################
#
# python-wsmeasure-pymodbus
#
################################################################################

PYTHON_WSMEASURE_PYMODBUS_VERSION = 3.16.1
PYTHON_WSMEASURE_PYMODBUS_SOURCE = pymodbus-$(PYTHON_WSMEASURE_PYMODBUS_VERSION).tar.gz
PYTHON_WSMEASURE_PYMODBUS_SITE = https://files.pythonhosted.org/packages/65/ca/2552fdc467e87a04654af2b6cd994a29653cf767e371792810e15f4715f6
PYTHON_WSMEASURE_PYMODBUS_SETUP_TYPE = setuptools
PYTHON_WSMEASURE_PYMODBUS_LICENSE = BSD-3-Clause
PYTHON_WSMEASURE_PYMODBUS_LICENSE_FILES = LICENSE

$(eval $(python-package))
