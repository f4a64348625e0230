"""Converting v1alpha1 policies to v1beta1 resources, one module per concern."""
