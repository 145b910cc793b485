from overt.cli.main import main

main()
