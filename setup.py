from setuptools import find_packages, setup

# The migrations live at the top of the repository (alembic/) and are installed as the package
# openevent.alembic, so that an installed, non-editable distribution can migrate its database.
setup(
    packages=[
        *find_packages(include=["openevent", "openevent.*"]),
        "openevent.alembic",
        "openevent.alembic.versions",
    ],
    package_dir={"openevent.alembic": "alembic"},
)
