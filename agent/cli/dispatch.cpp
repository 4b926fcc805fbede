// dispatch.cpp: (being written)
