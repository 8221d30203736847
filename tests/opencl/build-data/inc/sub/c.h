#define C_VAL 20
