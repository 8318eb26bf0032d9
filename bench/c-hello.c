/*
 * c-hello: the benchmark's reference for "what starting a process costs" (bench/startup).
 * Prints one line, like `stellar-webhooks --version`, and exits. Build: cc -O2 -o c-hello c-hello.c
 */
#include <stdio.h>

int main(void)
{
    puts("c-hello 1.0");
    return 0;
}
