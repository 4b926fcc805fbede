// command_tree.cpp: (being written)
