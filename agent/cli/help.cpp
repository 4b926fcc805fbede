// help.cpp: (being written)
