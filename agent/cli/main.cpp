// main.cpp: the mgmt binary (being written).
int main() { return 0; }
