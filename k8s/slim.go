package k8s

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Slim returns a copy of a Kubernetes object with only what Item reads (and
// the resource version), for the informers' caches: no managed fields,
// annotations, pod specs beyond containers' names, images and ports, or
// statuses beyond what the items carry. Other values are returned as they
// are. It is the informers' transform function.
func Slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return &corev1.Namespace{ObjectMeta: slimMeta(&o.ObjectMeta)}, nil
	case *corev1.Pod:
		p := &corev1.Pod{ObjectMeta: slimMeta(&o.ObjectMeta)}
		p.Spec.NodeName = o.Spec.NodeName
		for _, c := range o.Spec.Containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c.Name, Image: c.Image, Ports: c.Ports})
		}
		p.Status.Phase = o.Status.Phase
		p.Status.HostIP = o.Status.HostIP
		p.Status.PodIP = o.Status.PodIP
		p.Status.ContainerStatuses = slimStatuses(o.Status.ContainerStatuses)
		p.Status.InitContainerStatuses = slimStatuses(o.Status.InitContainerStatuses)
		return p, nil
	case *corev1.ReplicationController:
		rc := &corev1.ReplicationController{ObjectMeta: slimMeta(&o.ObjectMeta)}
		rc.Spec.Replicas = o.Spec.Replicas
		rc.Spec.Selector = o.Spec.Selector
		rc.Status.Replicas = o.Status.Replicas
		return rc, nil
	case *corev1.Service:
		s := &corev1.Service{ObjectMeta: slimMeta(&o.ObjectMeta)}
		s.Spec.ClusterIP = o.Spec.ClusterIP
		s.Spec.Ports = o.Spec.Ports
		s.Spec.Selector = o.Spec.Selector
		return s, nil
	case *appsv1.ReplicaSet:
		rs := &appsv1.ReplicaSet{ObjectMeta: slimMeta(&o.ObjectMeta)}
		rs.Spec.Replicas = o.Spec.Replicas
		rs.Spec.Selector = slimSelector(o.Spec.Selector)
		rs.Status.Replicas = o.Status.Replicas
		return rs, nil
	case *appsv1.Deployment:
		d := &appsv1.Deployment{ObjectMeta: slimMeta(&o.ObjectMeta)}
		d.Spec.Replicas = o.Spec.Replicas
		d.Spec.Selector = slimSelector(o.Spec.Selector)
		d.Status.Replicas = o.Status.Replicas
		return d, nil
	}
	return obj, nil
}

func slimMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp,
		Labels:            m.Labels,
	}
}

func slimSelector(s *metav1.LabelSelector) *metav1.LabelSelector {
	if s == nil {
		return nil
	}
	return &metav1.LabelSelector{MatchLabels: s.MatchLabels}
}

func slimStatuses(l []corev1.ContainerStatus) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, s := range l {
		out = append(out, corev1.ContainerStatus{
			Name:         s.Name,
			ContainerID:  s.ContainerID,
			Image:        s.Image,
			ImageID:      s.ImageID,
			Ready:        s.Ready,
			RestartCount: s.RestartCount,
		})
	}
	return out
}
