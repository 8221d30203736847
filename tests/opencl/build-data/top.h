/* in the working directory: PoCL adds -I. to every build */
#define TOP_VAL 3
