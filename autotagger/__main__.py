from autotagger.cli import main

raise SystemExit(main())
