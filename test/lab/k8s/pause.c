/*
 * pause.c: the lab's pod sandbox process (image registry.k8s.io/pause:3.10,
 * built by lab.sh with gcc -static, so no registry is needed).
 *
 * It holds the pod's namespaces open and does nothing else: it sleeps until
 * SIGINT or SIGTERM, and as PID 1 of a pod sharing its PID namespace it reaps
 * the children that get reparented to it.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_child(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction stop = {0}, child = {0};

	stop.sa_handler = on_stop;
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGTERM, &stop, NULL);

	child.sa_handler = on_child;
	child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &child, NULL);

	for (;;)
		pause();
}
