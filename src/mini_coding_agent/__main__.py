from mini_coding_agent.cli import main

raise SystemExit(main())
