from flamediff.cli import main

raise SystemExit(main())
