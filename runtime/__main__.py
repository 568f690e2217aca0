import sys

from runtime.launcher import main

sys.exit(main())
