package kubecapture

import (
	"context"
	"fmt"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// needed are the rights the plugin uses in the capture namespace.
var needed = []authv1.ResourceAttributes{
	{Verb: "create", Resource: "pods"},
	{Verb: "get", Resource: "pods"},
	{Verb: "list", Resource: "pods"},
	{Verb: "watch", Resource: "pods"},
	{Verb: "delete", Resource: "pods"},
	{Verb: "create", Resource: "pods", Subresource: "exec"},
}

// checkAccess asks the API server (SelfSubjectAccessReview) whether the user
// may do what the capture needs in ns, and says which RBAC rule is missing.
// When the review itself cannot be made, it says nothing: the requests
// themselves will tell.
func checkAccess(ctx context.Context, c kubernetes.Interface, ns string) error {
	var missing []string
	for _, ra := range needed {
		ra.Namespace = ns
		r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
			Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil
		}
		if !r.Status.Allowed {
			res := ra.Resource
			if ra.Subresource != "" {
				res += "/" + ra.Subresource
			}
			missing = append(missing, ra.Verb+" "+res)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("you may not %s in namespace %s, which kubectl capture needs to run its capture pod there.\n"+
		"An administrator can grant it (a Role with verbs create,get,list,watch,delete on pods and create on pods/exec):\n"+
		"  kubectl create role kubectl-capture -n %s --verb=create,get,list,watch,delete --resource=pods,pods/exec\n"+
		"  kubectl create rolebinding kubectl-capture -n %s --role=kubectl-capture --user=YOUR-USER\n"+
		"or capture from a namespace where you have it: --capture-namespace NS",
		strings.Join(missing, ", "), ns, ns, ns)
}

// createError explains why the capture pod could not be created.
func createError(err error, ns, image string) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "violates PodSecurity"):
		return fmt.Errorf("namespace %s does not admit the capture pod, which must be privileged and use the host's PID namespace:\n  %v\n"+
			"Fix: capture from a namespace at the Pod Security level \"privileged\" (--capture-namespace NS), or label this one:\n"+
			"  kubectl label namespace %s pod-security.kubernetes.io/enforce=privileged", ns, err, ns)
	case strings.Contains(msg, "privileged") && apierrors.IsForbidden(err):
		return fmt.Errorf("the cluster refused the privileged capture pod in namespace %s:\n  %v\n"+
			"kubectl capture needs privileged pods with hostPID (the API server's --allow-privileged, and no admission policy against them in that namespace); use --capture-namespace for one where they are allowed", ns, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("creating the capture pod in namespace %s was refused:\n  %v\n"+
			"kubectl capture needs the RBAC rights create,get,list,watch,delete on pods and create on pods/exec there, and an admission policy that allows privileged hostPID pods (--capture-namespace chooses another namespace)", ns, err)
	case apierrors.IsInvalid(err) && strings.Contains(msg, "image"):
		return fmt.Errorf("the image %q is not a valid image reference: %v", image, err)
	}
	return apiError(err, "creating the capture pod in namespace "+ns)
}
