from lavka.cli import main

main()
