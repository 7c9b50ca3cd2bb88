"""`python -m sdl_keras`: the `sdl-keras` command line."""

from sdl_keras.cli import main

raise SystemExit(main())
