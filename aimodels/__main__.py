"""``python -m aimodels``: the same entry point as the ``aimodels`` console script."""

from aimodels.cli.main import main

if __name__ == "__main__":
    main()
