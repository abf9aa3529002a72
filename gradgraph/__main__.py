from gradgraph.cli import main

main()
