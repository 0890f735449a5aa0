"""`python -m serving ...`: the tensorframes-serve command."""
import sys

from .cli import main

sys.exit(main())
