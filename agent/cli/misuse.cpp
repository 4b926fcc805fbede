// misuse.cpp: (being written)
