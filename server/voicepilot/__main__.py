from voicepilot.cli import main

raise SystemExit(main())
